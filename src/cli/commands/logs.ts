import { parallelLayers } from '../../executors-kit.js';
import { type GlobalOptions, openEnv } from '../env.js';
import { printJson } from '../format.js';
import { resolveRun, resolveStep } from '../resolve.js';

/**
 * `logs <run> [step] [-f]`: one step's log, or every step's in DAG order with a header
 * each. `-f` follows while the run goes (and ends when it ends).
 */
export async function logsCommand(runRef: string, stepRef: string | undefined, o: GlobalOptions & { follow?: boolean }): Promise<number> {
  const env = await openEnv(o);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  // The library's timers do not keep Node running (they are unref'd): while following,
  // this handle does, or the process would exit between two polls of the log.
  const keepAlive = o.follow ? setInterval(() => undefined, 2 ** 30) : undefined;
  try {
    const run = await resolveRun(env.scheduler, runRef);
    const job = (await env.scheduler.getJob(run.jobId))!;
    const pipeline = job.pipeline;
    const order = parallelLayers(pipeline.steps).flat();
    const steps = stepRef === undefined ? order.map((id) => pipeline.steps.find((s) => s.uuid === id)!) : [resolveStep(pipeline, stepRef)];
    if (o.json && !o.follow) {
      const logs = [];
      for (const s of steps) logs.push({ stepId: s.uuid, title: s.title, log: (await env.scheduler.readLog(run.id, s.uuid)) ?? null });
      printJson({ runId: run.id, status: run.status, logs });
      return 0;
    }
    for (const s of steps) {
      if (steps.length > 1) process.stdout.write(`==> ${s.title || s.uuid} (${s.uuid}) <==\n`);
      if (o.follow) {
        let last = '';
        for await (const chunk of env.scheduler.followLog(run.id, s.uuid, { signal: stop.signal })) {
          process.stdout.write(chunk);
          last = chunk;
        }
        if (last !== '' && !last.endsWith('\n')) process.stdout.write('\n');
      } else {
        const text = await env.scheduler.readLog(run.id, s.uuid);
        if (text === undefined) process.stdout.write(steps.length > 1 ? '(no log yet)\n' : '');
        else process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      }
      if (stop.signal.aborted) break;
    }
    return 0;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    await env.close();
  }
}
