import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Each public entry of package.json (`.`, `./storage`, ...) with its ESM declaration and module files. */
export function publicEntries(): Array<{ entry: string; dts: string; js: string }> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import?: { types: string; default: string } }>;
  };
  return Object.entries(pkg.exports).flatMap(([entry, target]) =>
    typeof target === 'string' || !target.import ? [] : [{ entry, dts: path.join(root, target.import.types), js: path.join(root, target.import.default) }],
  );
}

/** The checked-in list of an entry's names: `test/api/exports/root.txt` for `.`, `storage-contract.txt` for `./storage/contract`. */
export function listFile(entry: string): string {
  const name = entry === '.' ? 'root' : entry.slice(2).replaceAll('/', '-');
  return path.join(root, 'test', 'api', 'exports', `${name}.txt`);
}

export function readList(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Every name a bundled declaration file exports (values and types), read from its
 * `export { a, type B, c as C }` lists and any `export declare ...` / `export type X` line.
 */
export function declaredNames(dtsText: string): string[] {
  const names = new Set<string>();
  for (const m of dtsText.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const raw of m[1]!.split(',')) {
      const spec = raw.trim().replace(/^type\s+/, '');
      if (spec === '') continue;
      const parts = spec.split(/\s+as\s+/);
      names.add(parts[parts.length - 1]!.trim());
    }
  }
  for (const m of dtsText.matchAll(/^export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|function|const|let|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)) {
    names.add(m[1]!);
  }
  return [...names].sort();
}
