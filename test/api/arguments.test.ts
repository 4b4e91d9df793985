import { describe, expect, it } from 'vitest';
import * as pj from '../../src/index.js';
import * as schedule from '../../src/schedule-kit.js';
import * as executors from '../../src/executors-kit.js';

/**
 * Plain-JS callers pass wrong types; every public function and constructor of the root
 * export (and of pipeline-jobs/schedule) answers with the library's typed error naming the
 * argument, never a TypeError from deep inside (issue 10).
 */
const pipeline = pj.definePipeline({ name: 'p', steps: [{ uuid: 'a', file_path: 'a.py', incoming_connections: [] }] } as never);
const any = (v: unknown): never => v as never;

const cases: Array<[name: string, call: () => unknown, cls: Function, code: string, path: string]> = [
  ['ParameterGrid.forPipeline without a reader', () => pj.ParameterGrid.forPipeline(pipeline, any({ spec: {} })), pj.OptionsError, 'OPTIONS_MISSING', 'options.read'],
  ['ParameterGrid.forPipeline with a non-function reader', () => pj.ParameterGrid.forPipeline(pipeline, any({ read: 5 })), pj.OptionsError, 'OPTIONS_INVALID', 'options.read'],
  ['ParameterGrid.forPipeline without options', () => pj.ParameterGrid.forPipeline(pipeline, any(undefined)), pj.OptionsError, 'OPTIONS_MISSING', 'options'],
  ['ParameterGrid.forPipeline with a non-pipeline', () => pj.ParameterGrid.forPipeline(any(null), any({ read: () => undefined })), pj.OptionsError, 'OPTIONS_INVALID', 'pipeline'],
  ['ParameterGrid.forPipeline with a non-string file', () => pj.ParameterGrid.forPipeline(pipeline, any({ file: 3 })), pj.OptionsError, 'OPTIONS_INVALID', 'options.file'],
  ['new ParameterGrid with a non-pipeline', () => new pj.ParameterGrid(any('p')), pj.OptionsError, 'OPTIONS_INVALID', 'pipeline'],
  ['new ParameterGrid with a non-object spec', () => new pj.ParameterGrid(pipeline, any(5)), pj.ParameterError, 'PARAMETERS_NOT_AN_OBJECT', '$'],
  ['parsePipeline with a number', () => pj.parsePipeline(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'text'],
  ['parsePipeline with non-object options', () => pj.parsePipeline('{}', any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'options'],
  ['loadPipeline with a number', () => pj.loadPipeline(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'file'],
  ['loadPipeline with a non-string projectDir', () => pj.loadPipeline('p.orchest', any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'projectDir'],
  ['definePipeline with a number', () => pj.definePipeline(any(5)), pj.PipelineError, 'PIPELINE_INVALID_FIELD', 'steps'],
  ['parallelLayers with a number', () => executors.parallelLayers(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'steps'],
  ['readFromDirectory with a number', () => pj.readFromDirectory(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'root'],
  ['new SnapshotStore with a number', () => new pj.SnapshotStore(any(5)), pj.OptionsError, 'SNAPSHOT_INVALID_OPTION', 'options'],
  ['new RunExecutor with null', () => new pj.RunExecutor(any(null)), pj.OptionsError, 'OPTIONS_INVALID', 'options'],
  ['new JobScheduler without storage', () => new pj.JobScheduler(any({})), pj.OptionsError, 'OPTIONS_MISSING', 'storage'],
  ['new ProcessStepExecutor with a number', () => new pj.ProcessStepExecutor(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'options'],
  ['new BubblewrapStepExecutor with a number', () => new pj.BubblewrapStepExecutor(any(5)), pj.OptionsError, 'OPTIONS_INVALID', 'options'],
  ['new FunctionStepExecutor without functions', () => new pj.FunctionStepExecutor(any({})), pj.OptionsError, 'OPTIONS_INVALID', 'options.functions'],
  ['new FileLogStore without a directory', () => new pj.FileLogStore(any({})), pj.OptionsError, 'OPTIONS_INVALID', 'options.directory'],
  ['new StaticEnvironmentResolver without environments', () => new pj.StaticEnvironmentResolver(any({})), pj.OptionsError, 'OPTIONS_INVALID', 'environments'],
  ['normalizeSchedule without a context', () => schedule.normalizeSchedule({ type: 'now' }, any(undefined)), pj.OptionsError, 'OPTIONS_MISSING', 'context'],
  ['normalizeSchedule with a number', () => schedule.normalizeSchedule(any(5), { now: 0 }), pj.ScheduleError, 'SCHEDULE_NOT_OBJECT', 'schedule'],
  ['preview with a number', () => schedule.preview(any(5), 3, 0), pj.OptionsError, 'OPTIONS_INVALID', 'schedule'],
  ['nextOccurrence with a bad instant', () => schedule.nextOccurrence(schedule.normalizeSchedule({ type: 'cron', cron: '0 * * * *' }, { now: 0 }), any('soon')), pj.OptionsError, 'SCHEDULE_QUERY_INVALID_TIME', 'after'],
];

describe('public functions check their arguments at run time', () => {
  it.each(cases)('%s', async (_name, call, cls, code, path) => {
    let caught: unknown;
    try {
      await call();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(cls);
    expect(caught).toMatchObject({ code, path });
    expect((caught as pj.PipelineJobsError).message.length).toBeGreaterThan(10);
  });
});
