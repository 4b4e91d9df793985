import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/index.js';
import { MemoryLogStore, ProcessStepExecutor, RunExecutor, RunStatus } from '../../src/run/index.js';
import { defaults, makeProject, pipeline, tempDir } from './helpers.js';

// A Node step that reports everything it sees (Node adds no variables of its own).
const SHOW = `
import { readFileSync } from 'node:fs';
const doc = JSON.parse(readFileSync(process.env.ORCHEST_PIPELINE_PATH, 'utf8'));
console.log('SEEN ' + JSON.stringify({ env: process.env, cwd: process.cwd(), doc }));
`;

async function seen(logStore: MemoryLogStore, runId: string, stepId: string) {
  const text = (await logStore.read({ runId, stepId }))!;
  const line = text.split('\n').find((l) => l.startsWith('SEEN '));
  if (!line) throw new Error(`no SEEN line in: ${text}`);
  return JSON.parse(line.slice(5)) as { env: Record<string, string>; cwd: string; doc: Record<string, any> };
}

describe('what a step sees', () => {
  it('exactly: host PATH/HOME/LANG/TZ + allow-list, the job variables, Orchest and library variables; no host secrets', async () => {
    const pipelineText = JSON.stringify({
      name: 'seeing',
      uuid: 'pipe-uuid',
      version: '1.0.0',
      parameters: { alpha: 1, beta: 'b' },
      settings: { auto_eviction: true },
      services: {},
      custom_top_level: { kept: true },
      steps: {
        s1: { uuid: 's1', title: 'Show', file_path: 'steps/show.mjs', incoming_connections: [], environment: 'env-1', parameters: { k: 'default', n: 0 }, meta_data: { position: [1, 2] } },
        s2: { uuid: 's2', title: 'Other', file_path: 'steps/show.mjs', incoming_connections: ['s1'], environment: 'env-1', parameters: { z: true } },
      },
    });
    const project = await makeProject({ 'pipelines/seeing.orchest': pipelineText, 'pipelines/steps/show.mjs': SHOW });
    const p = parsePipeline(pipelineText, { path: 'pipelines/seeing.orchest' });
    const logStore = new MemoryLogStore();
    const workRoot = await tempDir();
    const hostEnv = {
      PATH: process.env.PATH!,
      HOME: '/home/someone',
      LANG: 'C.UTF-8',
      TZ: 'Europe/Berlin',
      LC_ALL: 'C',
      LC_TIME: 'C',
      SSL_CERT_FILE: '/etc/ssl/cert.pem',
      AWS_SECRET_ACCESS_KEY: 'host-secret',
      DATABASE_URL: 'postgres://secret',
      ORCHEST_STEP_UUID: 'host-spoof',
    };
    const executor = new RunExecutor({
      stepExecutors: new ProcessStepExecutor(),
      logStore,
      workRoot,
      hostEnv,
      envAllowList: ['LC_*', 'SSL_CERT_FILE'],
    });
    const parameters = defaults(p, { pipeline: { alpha: 42 }, steps: { s1: { k: 'grid value' } } });
    const result = await executor.execute({
      runId: 'run-7',
      jobId: 'job-3',
      projectId: 'project-9',
      pipeline: p,
      parameters,
      source: { directory: project },
      env: { JOB_VAR: 'from the job', PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    expect(result.status).toBe(RunStatus.SUCCESS);
    const { env, cwd, doc } = await seen(logStore, 'run-7', 's1');
    const copy = path.join(workRoot, 'work', 'run-7');
    const token = env.PIPELINE_JOBS_STEP_TOKEN!;
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    expect(env).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/someone',
      LANG: 'C.UTF-8',
      TZ: 'Europe/Berlin',
      LC_ALL: 'C',
      LC_TIME: 'C',
      SSL_CERT_FILE: '/etc/ssl/cert.pem',
      JOB_VAR: 'from the job',
      ORCHEST_STEP_UUID: 's1',
      ORCHEST_PIPELINE_UUID: 'pipe-uuid',
      ORCHEST_PIPELINE_PATH: path.join(copy, 'pipelines', 'seeing.orchest'),
      ORCHEST_SESSION_UUID: 'run-7',
      ORCHEST_SESSION_TYPE: 'noninteractive',
      ORCHEST_PROJECT_UUID: 'project-9',
      PIPELINE_JOBS_JOB_ID: 'job-3',
      PIPELINE_JOBS_RUN_ID: 'run-7',
      PIPELINE_JOBS_RUN_ATTEMPT: '1',
      PIPELINE_JOBS_STEP_ID: 's1',
      PIPELINE_JOBS_STEP_PARAMETERS: JSON.stringify({ k: 'grid value', n: 0 }),
      PIPELINE_JOBS_PIPELINE_PARAMETERS: JSON.stringify({ alpha: 42, beta: 'b' }),
      PIPELINE_JOBS_STEP_TOKEN: token,
    });
    // The working directory is the step file's folder, as in Orchest.
    expect(cwd).toBe(path.join(copy, 'pipelines', 'steps'));
    // The run's pipeline file: the run's values, every other field kept.
    expect(doc.parameters).toEqual({ alpha: 42, beta: 'b' });
    expect(doc.steps.s1.parameters).toEqual({ k: 'grid value', n: 0 });
    expect(doc.steps.s2.parameters).toEqual({ z: true });
    expect(doc.custom_top_level).toEqual({ kept: true });
    expect(doc.settings).toEqual({ auto_eviction: true });
    expect(doc.steps.s1.meta_data).toEqual({ position: [1, 2] });
    expect(doc.version).toBe('1.0.0');
    const other = await seen(logStore, 'run-7', 's2');
    expect(other.env.ORCHEST_STEP_UUID).toBe('s2');
    expect(other.env.PIPELINE_JOBS_STEP_PARAMETERS).toBe('{"z":true}');
    expect(other.env.PIPELINE_JOBS_STEP_TOKEN).not.toBe(token);
    // The project itself was not touched.
    expect(await readFile(path.join(project, 'pipelines/seeing.orchest'), 'utf8')).toBe(pipelineText);
  });

  it('without a job id and with the default host env, only PATH/HOME/LANG/TZ pass', async () => {
    const project = await makeProject({ 'show.mjs': SHOW });
    const p = pipeline({ uuid: 'code-pipe', steps: [{ uuid: 'x', file_path: 'show.mjs' }] });
    const logStore = new MemoryLogStore();
    const workRoot = await tempDir();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore, workRoot });
    await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    const { env, doc } = await seen(logStore, 'r', 'x');
    const hostKeys = Object.keys(env).filter((k) => !k.startsWith('ORCHEST_') && !k.startsWith('PIPELINE_JOBS_'));
    expect(hostKeys.sort()).toEqual(['HOME', 'LANG', 'PATH', 'TZ'].filter((k) => process.env[k] !== undefined).sort());
    expect(env.PIPELINE_JOBS_JOB_ID).toBeUndefined();
    // A pipeline defined in code gets a generated file name; its steps are read from the model.
    expect(env.ORCHEST_PIPELINE_PATH).toBe(path.join(workRoot, 'work', 'r', '.pipeline-jobs', 'code-pipe.orchest'));
    expect(doc.steps.x).toMatchObject({ uuid: 'x', file_path: 'show.mjs', parameters: {} });
  });

  it('parameters and file names never reach a shell', async () => {
    const evil = '$(touch PWNED); `touch PWNED2`; echo hi > PWNED3';
    const project = await makeProject({
      'we ird $(touch PWNED4).sh': 'printf "%s\\n" "$PIPELINE_JOBS_STEP_PARAMETERS"\n',
    });
    const p = pipeline({ steps: [{ uuid: 's', file_path: 'we ird $(touch PWNED4).sh', parameters: { v: evil } }] });
    const logStore = new MemoryLogStore();
    const workRoot = await tempDir();
    const executor = new RunExecutor({ stepExecutors: new ProcessStepExecutor(), logStore, workRoot, keepWorkingCopy: true });
    const result = await executor.execute({ runId: 'r', projectId: 'p', pipeline: p, parameters: defaults(p), source: { directory: project } });
    expect(result.status).toBe(RunStatus.SUCCESS);
    expect(await logStore.read({ runId: 'r', stepId: 's' })).toBe(`${JSON.stringify({ v: evil })}\n`);
    for (const f of ['PWNED', 'PWNED2', 'PWNED3', 'PWNED4']) expect(existsSync(path.join(result.workingCopy!, f)), f).toBe(false);
  });
});
