/**
 * A JSON parser that remembers the order in which object keys are written in the text.
 *
 * `JSON.parse` returns objects whose integer-like keys (`"10"`, `"2"`) come first in
 * ascending order, whatever the file says. Parameter grids depend on the written order,
 * so files are parsed here: the values are the same as `JSON.parse`'s, and
 * {@link keyOrder} returns each object's keys as written. Malformed text throws a
 * {@link JsonSyntaxError} with the line and column.
 */
export interface ParsedJson {
  value: unknown;
  /** The keys of an object of `value` in the order the text wrote them. */
  keyOrder(obj: object): readonly string[];
  /** Keys an object of `value` wrote more than once (`JSON.parse` keeps the last silently). */
  duplicateKeys(obj: object): readonly string[];
}

export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
  }
}

export function parseJsonText(text: string): ParsedJson {
  const orders = new WeakMap<object, string[]>();
  const duplicates = new WeakMap<object, string[]>();
  let i = 0;

  const fail = (message: string, at = i): never => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    throw new JsonSyntaxError(message, line, at - lineStart + 1);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let end = i;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (c === 34) break;
      if (c === 92) end++;
      else if (c < 32) fail('Control character in string', end);
      end++;
    }
    if (end >= text.length) fail('Unterminated string', start);
    i = end + 1;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('Invalid escape in string', start);
    }
  };
  const num = (): number => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail(`Unexpected character ${JSON.stringify(text[i])}`);
    i += m![0].length;
    return Number(m![0]);
  };
  const literal = (word: string, v: unknown): unknown => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return v;
    }
    return fail(`Unexpected character ${JSON.stringify(text[i])}`);
  };
  const value = (depth: number): unknown => {
    if (depth > 512) fail('Nesting too deep');
    ws();
    if (i >= text.length) fail('Unexpected end of JSON');
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const order: string[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        orders.set(obj, order);
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expected a property name in double quotes');
        const key = str();
        ws();
        if (text[i] !== ':') fail("Expected ':' after property name");
        i++;
        const v = value(depth + 1);
        if (!Object.prototype.hasOwnProperty.call(obj, key)) order.push(key);
        else duplicates.set(obj, [...(duplicates.get(obj) ?? []), key]);
        // Like JSON.parse, the last duplicate wins; defineProperty keeps "__proto__" a plain key.
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          break;
        }
        fail("Expected ',' or '}' after property value");
      }
      orders.set(obj, order);
      return obj;
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          break;
        }
        fail("Expected ',' or ']' after array element");
      }
      return arr;
    }
    if (c === '"') return str();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    return num();
  };

  const v = value(0);
  ws();
  if (i < text.length) fail('Unexpected text after JSON');
  return {
    value: v,
    keyOrder: (obj) => orders.get(obj) ?? Object.keys(obj),
    duplicateKeys: (obj) => duplicates.get(obj) ?? [],
  };
}

/** Canonical JSON: object keys sorted, no whitespace. Equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
