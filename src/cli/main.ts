#!/usr/bin/env node
/**
 * `pipeline-jobs`: the command line over the public API, on the embedded defaults (a
 * SQLite store and snapshot/log folders under `.pipeline-jobs/`). See docs/cli.md.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PipelineJobsError } from '../index.js';
import { actionCommand, type JobAction } from './commands/actions.js';
import { createCommand } from './commands/create.js';
import { logsCommand } from './commands/logs.js';
import { jobCommand, jobsCommand, runsCommand, snapshotsCommand } from './commands/read.js';
import { runCommand } from './commands/run.js';
import { workerCommand } from './commands/worker.js';
import { UsageError } from './errors.js';

/** Exit codes: 0 success, 1 failure (a run failed, an unexpected error), 2 bad arguments. */
const USAGE = 2;

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer >= 0.');
  return n;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The program; `exit` receives the exit code of the command. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('pipeline-jobs');
  program
    .description('Run data pipelines as jobs: now, at a time or on a cron schedule, over a grid of parameters.')
    .option('--home <dir>', 'folder of the embedded defaults (store, snapshots, logs)', undefined)
    .option('--store <sqlite-path|postgres-url>', 'the job store: a SQLite file or a postgres:// URL (default <home>/jobs.sqlite)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const g = (cmd: Command): Record<string, unknown> => cmd.optsWithGlobals();
  const done = (p: Promise<number>): Promise<void> => p.then(exit);
  const json = (cmd: Command): Command => cmd.option('--json', 'print JSON');

  const spec = (cmd: Command): Command =>
    cmd
      .option('--params <file>', 'a parameters file (the <pipeline>.parameters.json format); default: the pipeline\'s own')
      .option('--param <key=value>', 'set a parameter (step.key=value for a step\'s, by title or uuid); a JSON array sweeps its values; repeatable', collect)
      .option('--select <indices>', 'grid indices to run, e.g. 0,2,5-9 (default all)')
      .option('--name <name>', 'the job\'s name (default: the pipeline\'s)');

  json(spec(program.command('run').argument('<project>', 'project directory').argument('[pipeline]', '.orchest file in it (default: the only one)')))
    .description('run a pipeline now, in the foreground, with live progress (exit 0 only when every run succeeded)')
    .option('--concurrency <n>', 'runs at once', positiveInt('--concurrency'))
    .action((project: string, pipeline: string | undefined, _o, cmd: Command) => done(runCommand(project, pipeline, g(cmd))));

  json(spec(program.command('create').argument('<project>', 'project directory').argument('[pipeline]', '.orchest file in it (default: the only one)')))
    .description('create a job (a snapshot is taken now); a worker runs it')
    .option('--cron <expr>', 'cron schedule (5 or 6 fields)')
    .option('--tz <zone>', 'IANA time zone of the cron schedule (default UTC)')
    .option('--at <instant>', 'run once at this ISO 8601 instant')
    .addOption(new Option('--missed <policy>', 'missed occurrences').choices(['skip', 'latest', 'all']))
    .addOption(new Option('--overlap <policy>', 'an occurrence while the previous batch runs').choices(['allow', 'skip', 'queue', 'cancel-previous']))
    .option('--draft', 'create as a draft (confirm later)')
    .option('--key <key>', 'idempotency key: running the same create again returns the job it made')
    .action((project: string, pipeline: string | undefined, _o, cmd: Command) => done(createCommand(project, pipeline, g(cmd))));

  json(program.command('jobs')).description('list jobs').action((_o, cmd: Command) => done(jobsCommand(g(cmd))));
  json(program.command('job').argument('<job>', 'id, id prefix or name'))
    .description('a job with its occurrence ledger and next occurrences')
    .option('--next <n>', 'how many next occurrences', positiveInt('--next'))
    .action((ref: string, _o, cmd: Command) => done(jobCommand(ref, g(cmd))));
  json(program.command('runs').argument('<job>', 'id, id prefix or name'))
    .description('a job\'s runs with parameters, statuses and durations')
    .addOption(new Option('--status <status...>', 'only runs in these statuses').choices(['PENDING', 'STARTED', 'SUCCESS', 'FAILURE', 'ABORTED']))
    .option('--batch <n>', 'only runs of this batch', nonNegativeInt)
    .action((ref: string, _o, cmd: Command) => done(runsCommand(ref, g(cmd))));
  json(program.command('logs').argument('<run>', 'run id or id prefix').argument('[step]', 'step title or uuid (default: every step)'))
    .description('a run\'s step logs')
    .option('-f, --follow', 'follow while the run goes')
    .action((run: string, step: string | undefined, _o, cmd: Command) => done(logsCommand(run, step, g(cmd))));
  for (const [name, what] of [
    ['pause', 'pause a cron job (occurrences while paused are skipped)'],
    ['resume', 'resume a paused cron job'],
    ['cancel', 'cancel a job and its runs'],
    ['trigger', 'start an extra batch now (a worker runs it)'],
    ['delete', 'delete a job with its runs and logs'],
    ['confirm', 'confirm a draft job'],
  ] as const) {
    json(program.command(name).argument('<job>', 'id, id prefix or name')).description(what).action((ref: string, _o, cmd: Command) => done(actionCommand(name as JobAction, ref, g(cmd))));
  }
  json(program.command('snapshots')).description('list project snapshots and the jobs using them').action((_o, cmd: Command) => done(snapshotsCommand(g(cmd))));
  program
    .command('worker')
    .description('run the scheduler until SIGINT/SIGTERM (clean shutdown)')
    .option('--concurrency <n>', 'runs at once', positiveInt('--concurrency'))
    .action((_o, cmd: Command) => done(workerCommand(g(cmd), false)));
  program
    .command('serve')
    .description('a worker plus the dashboard')
    .option('--concurrency <n>', 'runs at once', positiveInt('--concurrency'))
    .option('--port <port>', 'port (default 8080; 0 picks one)', nonNegativeInt)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--token <secret>', 'actions need this token (also $PIPELINE_JOBS_TOKEN); without one, only local clients may act')
    .option('--read-only', 'no actions at all')
    .action((_o, cmd: Command) => done(workerCommand(g(cmd), true)));
  return program;
}

/** Runs the CLI: parses `argv`, runs the command, and sets `process.exitCode`. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    code = exitCodeOf(error, program);
  }
  process.exitCode = code;
}

function exitCodeOf(error: unknown, program: Command): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    if (error.code === 'commander.executeSubCommandAsync') return 1;
    return USAGE;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    return USAGE;
  }
  if (error instanceof PipelineJobsError && !['StorageError', 'ExecutionError'].includes(error.name)) {
    // Bad input the library refused (an unknown parameter, a bad cron, a state that forbids the action).
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
    return USAGE;
  }
  if (error instanceof PipelineJobsError) process.stderr.write(`error ${error.code}: ${error.message}\n`);
  else process.stderr.write(`pipeline-jobs: ${(error as Error)?.stack ?? String(error)}\n`);
  void program;
  return 1;
}

void main();
