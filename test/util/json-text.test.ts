import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, canonicalJson, parseJsonText } from '../../src/util/json-text.js';

describe('parseJsonText', () => {
  it('gives the same values as JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v, null, 1);
        expect(parseJsonText(text).value).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps key order as written, integer-like keys included', () => {
    const parsed = parseJsonText('{"b": 1, "10": 2, "a": {"2": 0, "x": 1, "1": 2}}');
    const obj = parsed.value as Record<string, Record<string, number>>;
    expect(parsed.keyOrder(obj)).toEqual(['b', '10', 'a']);
    expect(parsed.keyOrder(obj.a!)).toEqual(['2', 'x', '1']);
  });

  it('reports duplicate keys and keeps the last value, as JSON.parse does', () => {
    const parsed = parseJsonText('{"a": 1, "b": 2, "a": 3}');
    expect(parsed.value).toEqual({ a: 3, b: 2 });
    expect(parsed.duplicateKeys(parsed.value as object)).toEqual(['a']);
    expect(parsed.keyOrder(parsed.value as object)).toEqual(['a', 'b']);
  });

  it('treats "__proto__" as a plain key', () => {
    const v = parseJsonText('{"__proto__": {"polluted": true}}').value as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": 1,}', 1, 9],
    ['{\n  "a": tru\n}', 2, 8],
    ['[1, 2', 1, 6],
    ['{"a": "x\ny"}', 1, 9],
    ['{"a": 1} x', 1, 10],
    ['', 1, 1],
  ])('reports %j with line %i column %i', (text, line, column) => {
    try {
      parseJsonText(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(JsonSyntaxError);
      expect((err as JsonSyntaxError).line).toBe(line);
      expect((err as JsonSyntaxError).column).toBe(column);
    }
  });

  it('rejects everything JSON.parse rejects', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let native = true;
        try {
          JSON.parse(text);
        } catch {
          native = false;
        }
        let ours = true;
        try {
          parseJsonText(text);
        } catch {
          ours = false;
        }
        expect(ours).toBe(native);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('canonicalJson', () => {
  it('is equal for equal values whatever the key order', () => {
    expect(canonicalJson({ a: 1, b: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ b: [{ x: 1, y: 2 }], a: 1 }));
    expect(canonicalJson(1)).not.toBe(canonicalJson('1'));
  });
});
