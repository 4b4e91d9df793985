import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ParameterError } from '../../src/errors.js';
import {
  ParameterErrorCode,
  ParameterGrid,
  findParametersFile,
  parametersFileFor,
  readFromDirectory,
  readFromSnapshot,
} from '../../src/parameters/index.js';
import type { Snapshots } from '../../src/snapshot/port.js';
import { makePipeline } from './helpers.js';

describe('parametersFileFor', () => {
  it.each([
    ['main.orchest', 'main.parameters.json'],
    ['pipelines/etl.orchest', 'pipelines/etl.parameters.json'],
    ['a.b/c.d.orchest', 'a.b/c.d.parameters.json'],
    ['legacy.json', 'legacy.parameters.json'],
    ['noext', 'noext.parameters.json'],
  ])('%s -> %s', (pipelinePath, expected) => {
    expect(parametersFileFor(pipelinePath)).toBe(expected);
  });

  it('has none for a pipeline defined in code', () => {
    expect(parametersFileFor('')).toBeUndefined();
  });
});

describe('finding and reading parameters files', () => {
  let root: string;
  const pipeline = makePipeline({ parameters: { lr: 0.1 }, steps: [{ uuid: 's' }], path: 'pipelines/train.orchest' });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'pj-params-'));
    await mkdir(path.join(root, 'pipelines'));
    await writeFile(path.join(root, 'pipelines/train.orchest'), '{}');
    await writeFile(path.join(root, 'pipelines/train.parameters.json'), '{"pipeline_parameters": {"lr": [0.1, 0.01]}}');
    await writeFile(path.join(root, 'other.json'), '{"pipeline_parameters": {"lr": [1, 2, 3]}}');
    await writeFile(path.join(root, 'broken.json'), '{"pipeline_parameters": {"lr": [1, 1]}}');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds <name>.parameters.json beside <name>.orchest', async () => {
    const read = readFromDirectory(root);
    expect(await findParametersFile(pipeline.path, read)).toEqual({
      path: 'pipelines/train.parameters.json',
      text: '{"pipeline_parameters": {"lr": [0.1, 0.01]}}',
    });
    const grid = await ParameterGrid.forPipeline(pipeline, { read });
    expect(grid.size).toBe(2);
    expect(grid.at(1).pipeline.lr).toBe(0.01);
  });

  it('uses the defaults when there is no parameters file beside the pipeline', async () => {
    const lonely = makePipeline({ parameters: { lr: 0.1 }, steps: [{ uuid: 's' }], path: 'pipelines/none.orchest' });
    const grid = await ParameterGrid.forPipeline(lonely, { read: readFromDirectory(root) });
    expect(grid.size).toBe(1);
    expect(grid.at(0).pipeline).toEqual({ lr: 0.1 });
    const inCode = makePipeline({ steps: [{ uuid: 's' }], path: '' });
    expect((await ParameterGrid.forPipeline(inCode, { read: readFromDirectory(root) })).size).toBe(1);
  });

  it('reads another file when one is named, instead of the one beside the pipeline', async () => {
    const grid = await ParameterGrid.forPipeline(pipeline, { read: readFromDirectory(root), file: 'other.json' });
    expect(grid.size).toBe(3);
    const direct = await ParameterGrid.fromFile(pipeline, path.join(root, 'other.json'));
    expect(direct.toJSON()).toEqual(grid.toJSON());
  });

  it('refuses a named file that does not exist', async () => {
    const err = await ParameterGrid.fromFile(pipeline, 'missing.json', { read: readFromDirectory(root) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).code).toBe(ParameterErrorCode.FILE_NOT_FOUND);
    expect((err as ParameterError).path).toBe('missing.json');
  });

  it('names the file in the error of an invalid parameters file, keeping code and path', async () => {
    const err = await ParameterGrid.forPipeline(pipeline, { read: readFromDirectory(root), file: 'broken.json' }).catch((e: unknown) => e);
    expect((err as ParameterError).code).toBe(ParameterErrorCode.REPEATED_VALUE);
    expect((err as ParameterError).path).toBe('pipeline_parameters.lr[1]');
    expect((err as ParameterError).message).toMatch(/^broken\.json: /);
  });

  it('refuses a path that leaves the directory it reads from', async () => {
    const read = readFromDirectory(path.join(root, 'pipelines'));
    const err = await read('../other.json').catch((e: unknown) => e);
    expect((err as ParameterError).code).toBe(ParameterErrorCode.FILE_OUTSIDE_ROOT);
    expect(await read('nope.json')).toBeUndefined();
  });

  it('passes on read failures other than absence', async () => {
    // A directory cannot be read as a file: EISDIR is an error, not "no parameters file".
    const err = await readFromDirectory(root)('pipelines').catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('EISDIR');
  });
});

describe('readFromSnapshot', () => {
  /** The readFile part of the Snapshots port over a map, with the port's failure modes: ENOENT for a missing file, NotFoundError for an unknown snapshot. */
  const snapshots: Pick<Snapshots, 'readFile'> = {
    async readFile(id, file) {
      if (id !== 'snap-1') throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'No such snapshot', { value: id });
      const files: Record<string, string> = { 'main.parameters.json': '{"pipeline_parameters": {"lr": [1, 2]}}' };
      const text = files[file];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
      return Buffer.from(text);
    },
  };
  const pipeline = makePipeline({ parameters: { lr: 0 }, steps: [{ uuid: 's' }], path: 'main.orchest' });

  it('reads the parameters file from the snapshot, and treats a missing file as absent', async () => {
    const grid = await ParameterGrid.forPipeline(pipeline, { read: readFromSnapshot(snapshots, 'snap-1') });
    expect(grid.size).toBe(2);
    const other = makePipeline({ parameters: { lr: 0 }, steps: [{ uuid: 's' }], path: 'other.orchest' });
    expect((await ParameterGrid.forPipeline(other, { read: readFromSnapshot(snapshots, 'snap-1') })).size).toBe(1);
  });

  it('passes on an unknown snapshot instead of pretending there is no file', async () => {
    const err = await ParameterGrid.forPipeline(pipeline, { read: readFromSnapshot(snapshots, 'snap-x') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });
});
