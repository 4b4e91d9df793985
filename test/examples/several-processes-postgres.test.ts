import { afterAll, describe, expect, it } from 'vitest';
import { dropSchemas, findTestDatabase, freshSchema } from '../storage/pg-helpers.js';
import { runExample } from './run-example.js';

// Says loudly when PostgreSQL is missing; under CI=true it fails instead of skipping.
const url = await findTestDatabase();
const schema = freshSchema();
afterAll(async () => {
  if (url) await dropSchemas(url, [schema]); // the example drops it; this is for an example that failed halfway
});

describe.skipIf(!url)('examples/several-processes-postgres.ts', () => {
  it('three processes share one database: each of the six runs is ended once, by one of them', () => {
    const out = runExample('several-processes-postgres.ts', { DATABASE_URL: url!, PIPELINE_JOBS_SCHEMA: schema });
    const ended = out.split('\n').flatMap((l) => {
      const m = /^(main|worker-\d) ended run (\S+) (\w+)$/.exec(l);
      return m ? [{ by: m[1]!, run: m[2]!, status: m[3]! }] : [];
    });
    expect(ended).toHaveLength(6);
    expect(new Set(ended.map((e) => e.run)).size).toBe(6);
    expect(ended.every((e) => e.status === 'SUCCESS')).toBe(true);
    expect(out).toContain('worker-1 ready');
    expect(out).toContain('worker-2 ready');
    expect(out).toContain('job SUCCESS: 6 runs, 6 succeeded');
  }, 200_000);
});
