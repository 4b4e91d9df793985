import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('examples/orchest-cron-sqlite.ts', () => {
  it('runs an Orchest project on a Berlin cron schedule on SQLite: two nights run, the paused one is skipped', () => {
    const out = runExample('orchest-cron-sqlite.ts');
    expect(out).toContain('job STARTED: next at 2026-03-02T02:00:00.000Z, 2026-03-03T02:00:00.000Z, 2026-03-04T02:00:00.000Z');
    expect(out.split('\n').filter((l) => l.startsWith('ledger:'))).toEqual([
      'ledger: 2026-03-02T02:00:00.000Z started',
      'ledger: 2026-03-03T02:00:00.000Z skipped (paused)',
      'ledger: 2026-03-04T02:00:00.000Z started',
    ]);
    expect(out).toContain('runs: 4, 4 succeeded');
    expect(out).toContain('job ABORTED');
  }, 200_000);
});
