/**
 * Which pattern decides about a path, with git's precedence (`last_matching_pattern`):
 * caller patterns first (like `git ls-files --exclude`), then the `.gitignore` files from
 * the deepest directory up to the root, then `.git/info/exclude`. Within one list the last
 * matching line wins. The first list that has a match decides; `!` means "keep".
 */
import { lastMatching, type IgnorePattern, type PatternList } from './gitignore.js';

/** The `.gitignore` lists that apply in one directory: its own, then its parents'. */
export interface RuleChain {
  readonly list: PatternList;
  readonly parent: RuleChain | undefined;
}

/** The lists that do not depend on the directory. */
export interface RuleSet {
  /** Caller patterns (highest precedence), relative to the root. */
  readonly extra: PatternList | undefined;
  /** `.git/info/exclude` of the project (lowest precedence). */
  readonly infoExclude: PatternList | undefined;
}

/** Adds a directory's own `.gitignore` in front of its parent's chain. */
export function pushList(chain: RuleChain | undefined, list: PatternList): RuleChain | undefined {
  return list.patterns.length === 0 ? chain : { list, parent: chain };
}

/**
 * The pattern that decides about `path` (UTF-8, relative to the root; `nameStart` is where
 * its basename starts), or `undefined` when none matches. Excluded means: a pattern
 * decided and it is not a negation.
 */
export function decidingPattern(
  rules: RuleSet,
  chain: RuleChain | undefined,
  path: Uint8Array,
  nameStart: number,
  isDir: boolean,
): IgnorePattern | undefined {
  if (rules.extra !== undefined) {
    const p = lastMatching(rules.extra, path, nameStart, isDir);
    if (p !== undefined) return p;
  }
  for (let c = chain; c !== undefined; c = c.parent) {
    const p = lastMatching(c.list, path, nameStart, isDir);
    if (p !== undefined) return p;
  }
  if (rules.infoExclude !== undefined) return lastMatching(rules.infoExclude, path, nameStart, isDir);
  return undefined;
}

/** Whether a path is excluded (see {@link decidingPattern}). */
export function isExcluded(
  rules: RuleSet,
  chain: RuleChain | undefined,
  path: Uint8Array,
  nameStart: number,
  isDir: boolean,
): boolean {
  const p = decidingPattern(rules, chain, path, nameStart, isDir);
  return p !== undefined && !p.negative;
}
