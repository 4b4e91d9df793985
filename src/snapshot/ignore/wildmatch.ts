/**
 * A port of git's `wildmatch.c` (the matcher behind `.gitignore`), byte for byte: it works
 * on UTF-8 bytes as git does, so `?` matches one byte, not one character. Keeping the
 * algorithm as git wrote it (including its early-abort codes) is what makes the snapshot's
 * file list equal `git ls-files` on the tricky cases (`**`, bracket classes, escapes).
 */

const MATCH = 0;
const NOMATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BANG = 0x21;
const CARET = 0x5e;
const DASH = 0x2d;
const COLON = 0x3a;

/** The byte at `i`, or 0 past the end (C's terminating NUL). */
function at(bytes: Uint8Array, i: number): number {
  return i < bytes.length ? (bytes[i] as number) : 0;
}

/** `*`, `?`, `[` and `\`: the characters that make a pattern more than a literal. */
export function isGlobSpecial(c: number): boolean {
  return c === STAR || c === QUESTION || c === OPEN || c === BACKSLASH;
}

function inRange(c: number, lo: number, hi: number): boolean {
  return c >= lo && c <= hi;
}

/** git's ASCII-only character classes (`[[:alpha:]]` never matches a byte >= 0x80). */
const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => inRange(c, 0x30, 0x39) || inRange(c, 0x41, 0x5a) || inRange(c, 0x61, 0x7a),
  alpha: (c) => inRange(c, 0x41, 0x5a) || inRange(c, 0x61, 0x7a),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => inRange(c, 0x30, 0x39),
  graph: (c) => inRange(c, 0x21, 0x7e),
  lower: (c) => inRange(c, 0x61, 0x7a),
  print: (c) => inRange(c, 0x20, 0x7e),
  punct: (c) => inRange(c, 0x21, 0x2f) || inRange(c, 0x3a, 0x40) || inRange(c, 0x5b, 0x60) || inRange(c, 0x7b, 0x7e),
  space: (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d,
  upper: (c) => inRange(c, 0x41, 0x5a),
  xdigit: (c) => inRange(c, 0x30, 0x39) || inRange(c, 0x41, 0x46) || inRange(c, 0x61, 0x66),
};

/**
 * Matches `text` against `pattern` (both UTF-8 bytes). With `pathname`, `*` and `?` do not
 * match `/` and `**` between slashes matches any number of directories (git's WM_PATHNAME).
 */
export function wildmatch(pattern: Uint8Array, text: Uint8Array, pathname: boolean): boolean {
  return dowild(pattern, 0, text, 0, pathname) === MATCH;
}

function dowild(p: Uint8Array, pi: number, text: Uint8Array, ti: number, pathname: boolean): number {
  for (; pi < p.length; ti++, pi++) {
    let pCh = at(p, pi);
    let tCh = at(text, ti);
    if (tCh === 0 && pCh !== STAR) return ABORT_ALL;
    switch (pCh) {
      case BACKSLASH:
        // A literal match with the next pattern byte (a trailing backslash matches nothing).
        pi++;
        pCh = at(p, pi);
        if (tCh !== pCh) return NOMATCH;
        continue;
      case QUESTION:
        if (pathname && tCh === SLASH) return NOMATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        pi++;
        if (at(p, pi) === STAR) {
          const prevP = pi - 2;
          while (at(p, ++pi) === STAR) {
            // skip the run of asterisks
          }
          const next = at(p, pi);
          if ((prevP < 0 || at(p, prevP) === SLASH) && (next === 0 || next === SLASH || (next === BACKSLASH && at(p, pi + 1) === SLASH))) {
            // "**/" may match nothing at all: try the rest of the pattern right here.
            if (next === SLASH && dowild(p, pi + 1, text, ti, pathname) === MATCH) return MATCH;
            matchSlash = true;
          } else {
            matchSlash = !pathname;
          }
        } else {
          matchSlash = !pathname;
        }
        if (pi >= p.length) {
          // A trailing "**" matches everything; a trailing "*" only up to the next slash.
          if (!matchSlash && text.indexOf(SLASH, ti) !== -1) return NOMATCH;
          return MATCH;
        }
        if (!matchSlash && at(p, pi) === SLASH) {
          // One asterisk then a slash: it matches the rest of this path component.
          const slash = text.indexOf(SLASH, ti);
          if (slash === -1) return NOMATCH;
          ti = slash;
          // the slash itself is consumed by the loop's increments
          break;
        }
        for (;;) {
          if (tCh === 0) break;
          // Skip ahead to the next occurrence of a literal that follows the asterisk.
          if (!isGlobSpecial(at(p, pi))) {
            const lit = at(p, pi);
            while ((tCh = at(text, ti)) !== 0 && (matchSlash || tCh !== SLASH)) {
              if (tCh === lit) break;
              ti++;
            }
            if (tCh !== lit) return NOMATCH;
          }
          const matched = dowild(p, pi, text, ti, pathname);
          if (matched !== NOMATCH) {
            if (!matchSlash || matched !== ABORT_TO_STARSTAR) return matched;
          } else if (!matchSlash && tCh === SLASH) {
            return ABORT_TO_STARSTAR;
          }
          tCh = at(text, ++ti);
        }
        return ABORT_ALL;
      }
      case OPEN: {
        pCh = at(p, ++pi);
        if (pCh === CARET) pCh = BANG;
        const negated = pCh === BANG;
        if (negated) pCh = at(p, ++pi);
        let prevCh = 0;
        let matched = false;
        do {
          if (pCh === 0) return ABORT_ALL;
          if (pCh === BACKSLASH) {
            pCh = at(p, ++pi);
            if (pCh === 0) return ABORT_ALL;
            if (tCh === pCh) matched = true;
          } else if (pCh === DASH && prevCh !== 0 && at(p, pi + 1) !== 0 && at(p, pi + 1) !== CLOSE) {
            pCh = at(p, ++pi);
            if (pCh === BACKSLASH) {
              pCh = at(p, ++pi);
              if (pCh === 0) return ABORT_ALL;
            }
            if (tCh <= pCh && tCh >= prevCh) matched = true;
            pCh = 0; // so that prevCh becomes 0: a range cannot start another range
          } else if (pCh === OPEN && at(p, pi + 1) === COLON) {
            pi += 2;
            const s = pi;
            while ((pCh = at(p, pi)) !== 0 && pCh !== CLOSE) pi++;
            if (pCh === 0) return ABORT_ALL;
            const len = pi - s - 1;
            if (len < 0 || at(p, pi - 1) !== COLON) {
              // No ":]": the "[" was an ordinary member of the set.
              pi = s - 2;
              pCh = OPEN;
              if (tCh === pCh) matched = true;
              continue;
            }
            const name = Buffer.from(p.subarray(s, s + len)).toString('latin1');
            const test = Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
            if (test === undefined) return ABORT_ALL; // malformed [:class:]
            if (test(tCh)) matched = true;
            pCh = 0;
          } else if (tCh === pCh) {
            matched = true;
          }
          // (as in C, a `continue` above must still run this step)
        } while (((prevCh = pCh), (pCh = at(p, ++pi))) !== CLOSE);
        if (matched === negated || (pathname && tCh === SLASH)) return NOMATCH;
        continue;
      }
      default:
        if (tCh !== pCh) return NOMATCH;
        continue;
    }
  }
  return ti < text.length ? NOMATCH : MATCH;
}
