import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declaredNames, listFile, publicEntries, readList, root } from './surface.js';

/**
 * The public surface, read from the built `dist/` (what users get), must equal the lists
 * checked in under test/api/exports/. Adding or removing a public name is a decision:
 * make it by editing the list in the same commit.
 */
describe('the public API surface', () => {
  if (!existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` before the tests');

  for (const { entry, dts, js } of publicEntries()) {
    const rel = path.relative(root, listFile(entry));
    it(`pipeline-jobs${entry === '.' ? '' : entry.slice(1)} exports exactly the names in ${rel}`, () => {
      const actual = declaredNames(readFileSync(dts, 'utf8'));
      const expected = readList(listFile(entry));
      const added = actual.filter((n) => !expected.includes(n));
      const removed = expected.filter((n) => !actual.includes(n));
      const problems = [
        added.length ? `exported but not in ${rel} (decide, then add them there): ${added.join(', ')}` : '',
        removed.length ? `listed in ${rel} but no longer exported (remove them there and note the removal for the changelog): ${removed.join(', ')}` : '',
      ].filter(Boolean);
      expect(problems, problems.join('\n')).toEqual([]);
    });

    // The contract entries import vitest's test API; loading them inside a test would register suites mid-run.
    if (/contracts?$/.test(entry)) continue;
    it(`pipeline-jobs${entry === '.' ? '' : entry.slice(1)}: every value at run time is declared`, async () => {
      const mod = (await import(pathToFileURL(js).href)) as Record<string, unknown>;
      const declared = declaredNames(readFileSync(dts, 'utf8'));
      expect(Object.keys(mod).filter((k) => !declared.includes(k))).toEqual([]);
    });
  }
});
