/**
 * `.gitignore` files as git reads them (`dir.c`: `add_patterns_from_buffer`,
 * `parse_path_pattern`, `match_basename`, `match_pathname`), on UTF-8 bytes. Each file
 * becomes a {@link PatternList} whose `base` is the directory holding it; the precedence
 * between lists lives in `rules.ts`.
 */
import { isGlobSpecial, wildmatch } from './wildmatch.js';

const SLASH = 0x2f;
const BANG = 0x21;
const HASH = 0x23;
const SPACE = 0x20;
const BACKSLASH = 0x5c;
const STAR = 0x2a;
const CR = 0x0d;
const LF = 0x0a;

/** One line of an ignore file, parsed. */
export interface IgnorePattern {
  /** The line as written (after git's trimming), for messages such as "excluded by". */
  readonly text: string;
  /** Where it comes from: `sub/.gitignore`, `.git/info/exclude`, `option exclude`. */
  readonly source: string;
  /** 1-based line number in `source`. */
  readonly line: number;
  /** The pattern without `!` and trailing `/`; a leading `/` is kept (git strips it when matching). */
  readonly bytes: Uint8Array;
  /** `!pattern`: re-includes what an earlier pattern excluded. */
  readonly negative: boolean;
  /** `pattern/`: matches directories only. */
  readonly mustBeDir: boolean;
  /** No slash in the pattern: matched against the basename at any depth. */
  readonly noDir: boolean;
  /** `*literal`: a fast suffix compare, as git does. */
  readonly endsWith: boolean;
  /** Length of the leading part without glob characters (git's `nowildcardlen`). */
  readonly noWildcardLen: number;
}

/** The patterns of one ignore file, in file order. */
export interface PatternList {
  /** The directory the patterns are relative to, as UTF-8 bytes with a trailing `/` (empty for the root). */
  readonly base: Uint8Array;
  readonly patterns: readonly IgnorePattern[];
}

const EMPTY = new Uint8Array(0);

/** Parses the bytes of an ignore file the way git does (BOM, CRLF, comments, trailing spaces). */
export function parseIgnoreFile(content: Uint8Array, base: string, source: string): PatternList {
  const baseBytes = base === '' ? EMPTY : Buffer.from(base.endsWith('/') ? base : `${base}/`);
  const patterns: IgnorePattern[] = [];
  let start = 0;
  if (content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) start = 3;
  let lineNo = 1;
  const size = content.length;
  for (let i = start; i <= size; i++) {
    // git appends a newline to a file that does not end with one.
    if (i < size && content[i] !== LF) continue;
    if (i > start && content[start] !== HASH) {
      let end = i;
      if (content[end - 1] === CR) end--;
      end = trimTrailingSpaces(content, start, end);
      const pattern = parsePattern(content.subarray(start, end), source, lineNo);
      if (pattern !== undefined) patterns.push(pattern);
    }
    lineNo++;
    start = i + 1;
  }
  return { base: baseBytes, patterns };
}

/** Parses caller-given patterns (one per string) as a list relative to the project root. */
export function parsePatternStrings(lines: readonly string[], source: string): PatternList {
  return parseIgnoreFile(Buffer.from(lines.map((l) => `${l}\n`).join('')), '', source);
}

/** git's `trim_trailing_spaces`: unescaped trailing spaces go, tabs stay. */
function trimTrailingSpaces(b: Uint8Array, start: number, end: number): number {
  let lastSpace = -1;
  for (let p = start; p < end; p++) {
    const c = b[p];
    if (c === SPACE) {
      if (lastSpace === -1) lastSpace = p;
    } else if (c === BACKSLASH) {
      p++;
      if (p >= end) return end;
      lastSpace = -1;
    } else {
      lastSpace = -1;
    }
  }
  return lastSpace === -1 ? end : lastSpace;
}

function simpleLength(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && !isGlobSpecial(b[i] as number)) i++;
  return i;
}

function parsePattern(line: Uint8Array, source: string, lineNo: number): IgnorePattern | undefined {
  const text = Buffer.from(line).toString('utf8');
  let p = line;
  const negative = p[0] === BANG;
  if (negative) p = p.subarray(1);
  let len = p.length;
  const mustBeDir = len > 0 && p[len - 1] === SLASH;
  if (mustBeDir) len--;
  const bytes = Uint8Array.from(p.subarray(0, len));
  if (bytes.length === 0 && !mustBeDir && !negative && line.length === 0) return undefined;
  const noDir = bytes.indexOf(SLASH) === -1;
  const noWildcardLen = Math.min(simpleLength(p), len);
  const endsWith = bytes[0] === STAR && simpleLength(bytes.subarray(1)) === bytes.length - 1;
  return { text, source, line: lineNo, bytes, negative, mustBeDir, noDir, endsWith, noWildcardLen };
}

function equalBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

function matchBasename(name: Uint8Array, p: IgnorePattern): boolean {
  const pat = p.bytes;
  if (p.noWildcardLen === pat.length) return pat.length === name.length && equalBytes(pat, 0, name, 0, pat.length);
  if (p.endsWith) {
    const n = pat.length - 1;
    return n <= name.length && equalBytes(pat, 1, name, name.length - n, n);
  }
  return wildmatch(pat, name, false);
}

function matchPathname(path: Uint8Array, base: Uint8Array, p: IgnorePattern): boolean {
  let pat = p.bytes;
  let prefix = p.noWildcardLen;
  if (pat[0] === SLASH) {
    pat = pat.subarray(1);
    prefix--;
  }
  const baseLen = base.length === 0 ? 0 : base.length - 1;
  if (path.length < baseLen + 1 || (baseLen > 0 && path[baseLen] !== SLASH) || !equalBytes(path, 0, base, 0, baseLen)) return false;
  let name = baseLen > 0 ? path.subarray(baseLen + 1) : path;
  if (prefix > 0) {
    if (prefix > name.length) return false;
    if (!equalBytes(pat, 0, name, 0, prefix)) return false;
    // git matches the rest on its own, so "**" right after the literal prefix counts as leading.
    pat = pat.subarray(prefix);
    name = name.subarray(prefix);
    if (pat.length === 0 && name.length === 0) return true;
  }
  return wildmatch(pat, name, true);
}

/**
 * The last pattern of `list` that matches (git's `last_matching_pattern_from_list`), or
 * `undefined`. `path` is relative to the project root; `nameStart` is where its basename starts.
 */
export function lastMatching(list: PatternList, path: Uint8Array, nameStart: number, isDir: boolean): IgnorePattern | undefined {
  const patterns = list.patterns;
  for (let i = patterns.length - 1; i >= 0; i--) {
    const p = patterns[i] as IgnorePattern;
    if (p.mustBeDir && !isDir) continue;
    if (p.noDir) {
      if (matchBasename(path.subarray(nameStart), p)) return p;
    } else if (matchPathname(path, list.base, p)) {
      return p;
    }
  }
  return undefined;
}
