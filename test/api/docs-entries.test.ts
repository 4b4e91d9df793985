import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicEntries, root } from './surface.js';

/**
 * The API reference (`npm run docs`, TypeDoc) documents exactly the public entry points:
 * one TypeDoc entry point per subpath of package.json "exports", each module named after
 * its subpath, so a new subpath cannot ship without its reference.
 */

/** tsup's library entries, `'schedule/index': 'src/schedule-kit.ts'`, read from tsup.config.ts. */
function tsupEntries(): Map<string, string> {
  const text = readFileSync(path.join(root, 'tsup.config.ts'), 'utf8');
  const block = /entry:\s*\{([^}]*)\}/.exec(text);
  if (!block) throw new Error('tsup.config.ts has no `entry: { ... }` object: update this test to read it');
  const entries = new Map<string, string>();
  for (const m of block[1]!.matchAll(/'([^']+)':\s*'([^']+)'|(\w+):\s*'([^']+)'/g)) entries.set(m[1] ?? m[3]!, m[2] ?? m[4]!);
  return entries;
}

/** Each public subpath (`.`, `./schedule`, ...) with the source file its build comes from. */
function publicSources(): Array<{ entry: string; source: string }> {
  const entries = tsupEntries();
  return publicEntries().map(({ entry, dts }) => {
    const key = path.relative(path.join(root, 'dist'), dts).replace(/\.d\.ts$/, '').split(path.sep).join('/');
    const source = entries.get(key);
    if (source === undefined) throw new Error(`package.json exports ${entry} (${key}), which tsup.config.ts does not build`);
    return { entry, source };
  });
}

const typedoc = JSON.parse(readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };

describe('the API reference covers the public entry points', () => {
  it('typedoc.json has one entry point per subpath of package.json "exports", and no other', () => {
    const expected = publicSources().map((s) => s.source).sort();
    expect([...typedoc.entryPoints].sort()).toEqual(expected);
  });

  for (const { entry, source } of publicSources()) {
    if (entry === '.') continue;
    const name = `pipeline-jobs${entry.slice(1)}`;
    it(`${source} is documented as the module ${name}`, () => {
      const text = readFileSync(path.join(root, source), 'utf8');
      const header = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
      expect(header, `${source} must open with a comment that has @packageDocumentation`).toMatch(/@packageDocumentation/);
      expect(/@module\s+(\S+)/.exec(header)?.[1], `${source}'s @module tag`).toBe(name);
    });
  }
});
