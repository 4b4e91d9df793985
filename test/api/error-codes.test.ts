import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ExecutionErrorCode,
  JobErrorCode,
  NotFoundErrorCode,
  OptionsErrorCode,
  PipelineErrorCode,
  ScheduleErrorCode,
  StorageErrorCode,
} from '../../src/error-codes.js';
import { ParameterErrorCode } from '../../src/parameters/codes.js';
import { StepErrorCode } from '../../src/run/result.js';
import { SnapshotErrorCode } from '../../src/snapshot/errors.js';
import { root } from './surface.js';

const S = SnapshotErrorCode;
const snapshotElsewhere: string[] = [S.NOT_FOUND, S.FILE_NOT_FOUND, S.INVALID_OPTION];

/** The code maps each class takes: a code thrown with any other class is a bug (issue 10). */
const maps: Record<string, Record<string, Record<string, string>>> = {
  PipelineError: { PipelineErrorCode },
  ParameterError: { ParameterErrorCode },
  ScheduleError: { ScheduleErrorCode },
  SnapshotError: { SnapshotErrorCode: Object.fromEntries(Object.entries(S).filter(([, c]) => !snapshotElsewhere.includes(c))) },
  ExecutionError: { ExecutionErrorCode, StepErrorCode },
  JobStateError: { JobErrorCode },
  NotFoundError: { NotFoundErrorCode, SnapshotErrorCode: { NOT_FOUND: S.NOT_FOUND, FILE_NOT_FOUND: S.FILE_NOT_FOUND } },
  OptionsError: { OptionsErrorCode, SnapshotErrorCode: { INVALID_OPTION: S.INVALID_OPTION } },
  StorageError: { StorageErrorCode },
};
const codesOf = (cls: string): string[] => Object.values(maps[cls]!).flatMap((m) => Object.values(m));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

describe('error codes', () => {
  it('each code belongs to exactly one class', () => {
    const owner = new Map<string, string[]>();
    for (const cls of Object.keys(maps)) for (const code of codesOf(cls)) owner.set(code, [...(owner.get(code) ?? []), cls]);
    expect([...owner].filter(([, classes]) => classes.length > 1)).toEqual([]);
  });

  it('every `new XError(CODE` in src/ uses a code of that class', () => {
    const wrong: string[] = [];
    let seen = 0;
    for (const file of sourceFiles(path.join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (\w+Error)\(\s*(?:'([A-Z0-9_]+)'|(\w+ErrorCode)\.([A-Z0-9_]+))/g)) {
        const [, cls, literal, map, key] = m;
        if (!maps[cls!]) continue;
        seen += 1;
        const code = literal ?? maps[cls!]![map!]?.[key!];
        if (code === undefined || !codesOf(cls!).includes(code)) {
          const line = text.slice(0, m.index).split('\n').length;
          wrong.push(`${path.relative(root, file)}:${line}: ${cls} with ${literal ?? `${map}.${key}`} (add it to ${cls}'s code map, or throw the class that owns it)`);
        }
      }
    }
    expect(seen).toBeGreaterThan(50);
    expect(wrong, wrong.join('\n')).toEqual([]);
  });
});
