import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../src/errors.js';
import { definePipeline, parsePipeline } from '../../src/pipeline/index.js';

const step = (uuid: string, incoming: string[] = [], extra: Record<string, unknown> = {}) => ({
  uuid,
  title: uuid,
  file_path: `${uuid}.py`,
  incoming_connections: incoming,
  environment: 'env-1',
  ...extra,
});

const doc = (steps: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: 'p', uuid: 'p-uuid', version: '1.0.0', parameters: {}, settings: {}, steps: Object.fromEntries(steps.map((s) => [s.uuid, s])), ...extra });

function expectError(fn: () => unknown, code: string, path?: string): PipelineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    const e = err as PipelineError;
    expect(e.code).toBe(code);
    if (path !== undefined) expect(e.path).toBe(path);
    return e;
  }
  throw new Error(`expected ${code}`);
}

describe('parsePipeline', () => {
  it('loads the 1.x format into a frozen model with unknown fields kept', () => {
    const p = parsePipeline(
      doc([step('a', [], { parameters: { x: 1 }, kernel: { name: 'python', display_name: 'Python 3' }, custom: 42 }), step('b', ['a'])], {
        settings: { max_steps_parallelism: 2, auto_eviction: false },
        extra_top: { keep: true },
      }),
      { path: 'sub/main.orchest' },
    );
    expect(p.name).toBe('p');
    expect(p.version).toBe('1.0.0');
    expect(p.path).toBe('sub/main.orchest');
    expect(p.settings.max_steps_parallelism).toBe(2);
    expect(p.settings.auto_eviction).toBe(false);
    expect(p.steps.map((s) => s.uuid)).toEqual(['a', 'b']);
    expect(p.steps[0]!.kernel).toEqual({ name: 'python', display_name: 'Python 3' });
    expect((p.source.extra_top as { keep: boolean }).keep).toBe(true);
    expect(((p.source.steps as Record<string, Record<string, unknown>>).a!).custom).toBe(42);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.steps[0]!.parameters)).toBe(true);
    expect(() => {
      (p.steps as unknown as unknown[]).push(1);
    }).toThrow();
  });

  it('keeps parameter key order as written in the text, integer-like keys included', () => {
    const text = `{"name":"p","uuid":"u","parameters":{"b":1,"3":2,"a":3},
      "steps":{"a":{"uuid":"a","file_path":"a.py","incoming_connections":[],"parameters":{"zeta":1,"10":2,"alpha":3,"2":4}}}}`;
    const p = parsePipeline(text);
    expect(p.parameterOrder).toEqual(['b', '3', 'a']);
    expect(p.steps[0]!.parameterOrder).toEqual(['zeta', '10', 'alpha', '2']);
    expect(Object.keys(JSON.parse('{"zeta":1,"10":2}'))).toEqual(['10', 'zeta']); // why we parse ourselves
  });

  it('warns that services are not run', () => {
    const p = parsePipeline(doc([step('a')], { services: { db: { image: 'postgres' } } }));
    expect(p.services).toHaveProperty('db');
    expect(p.warnings.join('\n')).toMatch(/services .* not run: db/);
  });

  it('rejects malformed JSON with line and column', () => {
    const e = expectError(() => parsePipeline('{\n  "name": "x",\n  "uuid": }'), 'PIPELINE_MALFORMED_JSON', '$');
    expect(e.message).toMatch(/line 3, column 11/);
  });

  it('rejects a wrong field type with its path', () => {
    expectError(() => parsePipeline(doc([step('a', ['b', 7 as unknown as string])])), 'PIPELINE_INVALID_FIELD', 'steps.a.incoming_connections[1]');
    expectError(() => parsePipeline(JSON.stringify({ name: 'x', steps: {} })), 'PIPELINE_INVALID_FIELD', 'uuid');
    expectError(() => parsePipeline(doc([step('a')], { settings: { max_steps_parallelism: -1 } })), 'PIPELINE_INVALID_FIELD', 'settings.max_steps_parallelism');
    expectError(() => parsePipeline('[]'), 'PIPELINE_INVALID_FIELD');
  });

  it('rejects a connection to an unknown step, naming it', () => {
    const e = expectError(() => parsePipeline(doc([step('a1'), step('b', ['a1', 'ghost'])])), 'PIPELINE_UNKNOWN_CONNECTION', 'steps.b.incoming_connections[1]');
    expect(e.value).toBe('ghost');
  });

  it('rejects a cycle, naming the steps on it', () => {
    const e = expectError(() => parsePipeline(doc([step('a', ['c']), step('b', ['a']), step('c', ['b']), step('d')])), 'PIPELINE_CYCLE');
    expect(e.message).toMatch(/a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/);
    expect(new Set(e.value as string[])).toEqual(new Set(['a', 'b', 'c']));
    expectError(() => parsePipeline(doc([step('self', ['self'])])), 'PIPELINE_CYCLE');
  });

  it('rejects duplicate step uuids, a uuid that differs from its key, and an empty pipeline', () => {
    const text = '{"name":"p","uuid":"u","steps":{"a":{"uuid":"a","file_path":"a.py","incoming_connections":[]},"a":{"uuid":"a","file_path":"b.py","incoming_connections":[]}}}';
    expectError(() => parsePipeline(text), 'PIPELINE_DUPLICATE_STEP', 'steps.a');
    expectError(() => parsePipeline(JSON.stringify({ name: 'p', uuid: 'u', steps: { a: step('b') } })), 'PIPELINE_UUID_MISMATCH', 'steps.a.uuid');
    expectError(() => parsePipeline(doc([])), 'PIPELINE_EMPTY', 'steps');
    expectError(() => parsePipeline(doc([step('a', ['a', 'a'])])), 'PIPELINE_DUPLICATE_CONNECTION');
  });

  it('rejects a file_path that is absolute or leaves the project', () => {
    expectError(() => parsePipeline(doc([step('a', [], { file_path: '/etc/passwd' })])), 'PIPELINE_ABSOLUTE_FILE_PATH', 'steps.a.file_path');
    expectError(() => parsePipeline(doc([step('a', [], { file_path: '../x.py' })])), 'PIPELINE_FILE_OUTSIDE_PROJECT', 'steps.a.file_path');
    expectError(() => parsePipeline(doc([step('a', [], { file_path: 'sub/../../x.py' })])), 'PIPELINE_FILE_OUTSIDE_PROJECT');
    // inside a subfolder, climbing to the project root is fine
    expect(parsePipeline(doc([step('a', [], { file_path: '../x.py' })]), { path: 'sub/p.orchest' }).steps[0]!.file_path).toBe('../x.py');
    expectError(() => parsePipeline(doc([step('a', [], { file_path: '../../x.py' })]), { path: 'sub/p.orchest' }), 'PIPELINE_FILE_OUTSIDE_PROJECT');
  });

  it('reads legacy files: name for title, numeric environment, empty file_path', () => {
    const p = parsePipeline(JSON.stringify({ name: 'l', uuid: 'l', settings: {}, parameters: {}, steps: { s: { uuid: 's', name: 'Step S', file_path: '', environment: 0.1, incoming_connections: [] } } }));
    expect(p.steps[0]).toMatchObject({ title: 'Step S', environment: '0.1', file_path: '' });
    expect(p.warnings.length).toBeGreaterThanOrEqual(2);
  });
});

describe('definePipeline', () => {
  it('builds a pipeline from code with defaults', () => {
    const p = definePipeline({ name: 'etl', steps: [{ uuid: 'extract', file_path: 'extract.py' }, { uuid: 'load', file_path: 'load.py', incoming_connections: ['extract'] }] });
    expect(p.uuid).toBe('etl');
    expect(p.steps[1]).toMatchObject({ title: 'load', environment: '', incoming_connections: ['extract'] });
  });

  it('validates like a file', () => {
    expectError(() => definePipeline({ name: 'x', steps: [{ uuid: 'a', incoming_connections: ['b'] }] }), 'PIPELINE_UNKNOWN_CONNECTION', 'steps.a.incoming_connections[0]');
    expectError(() => definePipeline({ name: 'x', steps: [{ uuid: 'a' }, { uuid: 'a' }] }), 'PIPELINE_DUPLICATE_STEP', 'steps[1].uuid');
    expectError(() => definePipeline({ name: 'x', steps: [] }), 'PIPELINE_EMPTY');
    expectError(() => definePipeline({ name: 'x', steps: [{ uuid: '' }] }), 'PIPELINE_INVALID_FIELD', 'steps[0].uuid');
    expectError(() => definePipeline({ name: 'x', steps: [{ uuid: 'a', file_path: '/abs.py' }] }), 'PIPELINE_ABSOLUTE_FILE_PATH');
    expectError(() => definePipeline(null as never), 'PIPELINE_INVALID_FIELD');
  });
});
