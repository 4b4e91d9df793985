import type { BatchRecord, Job, OccurrenceRecord, Run } from '../index.js';
import type { Occurrence } from '../schedule-kit.js';
import { dagSvg } from './dag.js';
import { badge, esc, inZone, page, seg, took, when } from './html.js';
import { describeSchedule } from './words.js';

/** What the pages need besides data. */
export interface PageContext {
  readonly base: string;
  /** Whether this request may use the action buttons. */
  readonly actions: boolean;
  readonly now: number;
}

function schedule(j: Job): string {
  return j.schedule.type === 'cron'
    ? `${esc(describeSchedule(j.schedule))} <span class="muted">(${esc(j.schedule.timezone)})</span>`
    : esc(describeSchedule(j.schedule));
}

/** Next occurrences as wall-clock times of the schedule's zone, the UTC instant on hover. */
function nextTimes(j: Job, next: readonly Occurrence[]): string[] {
  const tz = j.schedule.type === 'cron' ? j.schedule.timezone : 'UTC';
  return next.map((o) => {
    const note = o.skipped !== undefined ? ' (skipped: DST gap)' : o.dst !== undefined ? ` (DST ${o.dst})` : '';
    return `<span class="mono${o.skipped !== undefined ? ' skipped' : ''}" title="${esc(when(o.time))}">${esc(inZone(o.time, tz))}${esc(note)}</span>`;
  });
}

function counters(j: Job): string {
  const c = j.counters;
  const parts: [string, number][] = [['SUCCESS', c.SUCCESS], ['FAILURE', c.FAILURE], ['ABORTED', c.ABORTED], ['STARTED', c.STARTED], ['PENDING', c.PENDING]];
  return `<span class="counters">${parts.map(([k, v]) => `<span class="count ${k.toLowerCase()}" title="${k}">${v}</span>`).join('')}</span>`;
}

/** The jobs page: status, schedule in words and zone, next occurrences, counters. */
export function jobsPage(ctx: PageContext, jobs: readonly { job: Job; next: readonly Occurrence[] }[]): string {
  const rows = jobs.map(({ job: j, next }) => `<tr>
<td><a class="job-link" href="${esc(ctx.base)}/jobs/${seg(j.id)}">${esc(j.name)}</a><div class="muted mono">${esc(j.id.slice(0, 8))}</div></td>
<td>${badge(j.status)}</td>
<td>${schedule(j)}</td>
<td>${next.length ? nextTimes(j, next).map((t) => `<div>${t}</div>`).join('') : '<span class="muted">-</span>'}</td>
<td>${counters(j)}</td>
<td class="mono">${esc(when(j.createdAt))}</td></tr>`);
  const body = jobs.length === 0
    ? '<h1>Jobs</h1><p class="empty">No jobs yet. Start one with <code>npx pipeline-jobs run &lt;project&gt;</code>.</p>'
    : `<h1>Jobs</h1><table class="list"><thead><tr><th>Job</th><th>Status</th><th>Schedule</th><th>Next occurrences</th><th title="succeeded / failed / aborted / running / pending">Runs</th><th>Created</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return page(ctx.base, 'Jobs', body);
}

function params(r: Run, titles: ReadonlyMap<string, string>): string {
  const parts = Object.entries(r.parameters.pipeline).map(([k, v]) => `<span class="param"><b>${esc(k)}</b>=${esc(JSON.stringify(v))}</span>`);
  for (const [uuid, values] of Object.entries(r.parameters.steps)) {
    for (const [k, v] of Object.entries(values)) parts.push(`<span class="param"><b>${esc(titles.get(uuid) ?? uuid)}.${esc(k)}</b>=${esc(JSON.stringify(v))}</span>`);
  }
  return parts.length ? parts.join(' ') : '<span class="muted">none</span>';
}

function actionButtons(ctx: PageContext, j: Job): string {
  if (!ctx.actions) return '<p class="muted">Actions are off for this connection (a token is needed beyond localhost).</p>';
  const isCron = j.schedule.type === 'cron';
  const ended = ['SUCCESS', 'FAILURE', 'ABORTED'].includes(j.status);
  const allowed: [string, boolean][] = [
    ['pause', isCron && j.status === 'STARTED'],
    ['resume', j.status === 'PAUSED'],
    ['trigger', !ended && j.status !== 'DRAFT'],
    ['cancel', !ended],
  ];
  return `<div class="actions">${allowed
    .filter(([, ok]) => ok)
    .map(([a]) => `<form method="post" action="${esc(ctx.base)}/jobs/${seg(j.id)}/${a}"><button type="submit" class="btn ${a}" data-action="${a}">${a[0]!.toUpperCase()}${a.slice(1)}</button></form>`)
    .join('')}</div>`;
}

/** The job page: batches and runs with parameters, statuses, durations; the ledger; actions. */
export function jobPage(ctx: PageContext, j: Job, batches: readonly BatchRecord[], runs: readonly Run[], ledger: readonly OccurrenceRecord[], next: readonly Occurrence[]): string {
  const titles = new Map(j.pipeline.steps.map((s) => [s.uuid, s.title || s.uuid.slice(0, 8)]));
  const runRows = runs.map((r) => `<tr data-run="${esc(r.id)}">
<td><a href="${esc(ctx.base)}/runs/${seg(r.id)}">run ${r.runIndex}</a></td><td>${r.batchIndex}</td><td>${r.gridIndex}</td>
<td>${badge(r.status)}${r.reason && r.status !== 'SUCCESS' ? ` <span class="muted">${esc(r.reason)}</span>` : ''}</td>
<td class="mono">${esc(when(r.startedAt))}</td><td>${esc(r.startedAt === null ? '-' : took((r.finishedAt ?? ctx.now) - r.startedAt))}</td>
<td class="params">${params(r, titles)}</td></tr>`);
  const batchRows = batches.map((b) => `<tr><td>${b.batchIndex}</td><td>${esc(b.trigger)}</td><td class="mono">${esc(when(b.occurrenceAt))}</td><td>${b.runCount}</td><td class="mono">${esc(when(b.createdAt))}</td></tr>`);
  const ledgerRows = ledger.map((o) => `<tr><td class="mono">${esc(when(o.at))}${o.count > 1 ? ` .. ${esc(when(o.lastAt))}` : ''}</td><td>${esc(o.action)}</td><td>${o.action === 'started' ? `batch ${o.batchIndex}` : `<span class="skip">${esc(o.reason)}</span>${o.count > 1 ? ` ×${o.count}` : ''}`}</td></tr>`);
  const body = `<div class="title"><h1>${esc(j.name)}</h1>${badge(j.status)}</div>
<dl class="facts">
<dt>Id</dt><dd class="mono">${esc(j.id)}</dd>
<dt>Pipeline</dt><dd>${esc(j.pipeline.name)} <span class="muted">(${j.pipeline.steps.length} steps)</span></dd>
<dt>Schedule</dt><dd>${schedule(j)}</dd>
<dt>Next</dt><dd>${next.length ? nextTimes(j, next).join(', ') : '-'}</dd>
<dt>Grid</dt><dd>${j.gridSize} combination(s), ${j.selectedRuns} selected</dd>
<dt>Runs</dt><dd>${counters(j)}</dd>
</dl>
${actionButtons(ctx, j)}
<h2>Runs</h2>
${runs.length ? `<table class="list runs"><thead><tr><th>Run</th><th>Batch</th><th>Grid</th><th>Status</th><th>Started</th><th>Duration</th><th>Parameters</th></tr></thead><tbody>${runRows.join('')}</tbody></table>` : '<p class="empty">No runs yet.</p>'}
<div class="cols"><section><h2>Batches</h2>
${batches.length ? `<table class="list"><thead><tr><th>#</th><th>Trigger</th><th>Occurrence</th><th>Runs</th><th>Started</th></tr></thead><tbody>${batchRows.join('')}</tbody></table>` : '<p class="empty">No batches yet.</p>'}</section>
<section><h2>Occurrence ledger</h2>
${ledger.length ? `<table class="list"><thead><tr><th>When</th><th>Action</th><th>Detail</th></tr></thead><tbody>${ledgerRows.join('')}</tbody></table>` : '<p class="empty">No occurrences yet.</p>'}</section></div>`;
  return page(ctx.base, j.name, body, [[j.name, null]]);
}

/** The run page: the DAG with step statuses, each step's log (streamed while it runs), notebooks. */
export function runPage(ctx: PageContext, j: Job, r: Run, notebooks: ReadonlySet<string>): string {
  const states = new Map(r.steps.map((s) => [s.stepId, s]));
  const statusOf = (uuid: string): string => states.get(uuid)?.status ?? 'PENDING';
  const steps = j.pipeline.steps.map((s) => {
    const st = states.get(s.uuid);
    const nb = notebooks.has(s.uuid) ? `<p><a class="notebook" href="${esc(ctx.base)}/runs/${seg(r.id)}/steps/${seg(s.uuid)}/notebook" target="_blank" rel="noopener">Executed notebook (HTML)</a></p>` : '';
    return `<section class="step" id="step-${esc(s.uuid)}" data-step="${esc(s.uuid)}">
<h3>${esc(s.title || s.uuid)} ${badge(statusOf(s.uuid))} <span class="muted mono">${esc(s.file_path)}</span> <span class="muted">${st?.startedAt ? esc(took((st.finishedAt ?? ctx.now) - st.startedAt)) : ''}</span></h3>
${st?.error ? `<p class="error">${esc(st.error.code)}: ${esc(st.error.message)}</p>` : ''}${nb}
<pre class="log" data-log="${esc(ctx.base)}/runs/${seg(r.id)}/steps/${seg(s.uuid)}/log"></pre></section>`;
  });
  const titles = new Map(j.pipeline.steps.map((s) => [s.uuid, s.title || s.uuid.slice(0, 8)]));
  const body = `<div class="title"><h1>Run ${r.runIndex} of ${esc(j.name)}</h1>${badge(r.status)}</div>
<dl class="facts" id="run" data-state="${esc(ctx.base)}/runs/${seg(r.id)}/state" data-status="${esc(r.status)}">
<dt>Id</dt><dd class="mono">${esc(r.id)}</dd>
<dt>Batch / grid</dt><dd>batch ${r.batchIndex}, grid index ${r.gridIndex}</dd>
<dt>Parameters</dt><dd class="params">${params(r, titles)}</dd>
<dt>Started</dt><dd class="mono">${esc(when(r.startedAt))}</dd>
<dt>Duration</dt><dd>${esc(r.startedAt === null ? '-' : took((r.finishedAt ?? ctx.now) - r.startedAt))}</dd>
${r.error ? `<dt>Error</dt><dd class="error">${esc(r.error.code)}: ${esc(r.error.message)}</dd>` : ''}
</dl>
<div class="dagbox">${dagSvg(j.pipeline, statusOf)}</div>
<h2>Steps</h2>${steps.join('')}`;
  return page(ctx.base, `Run ${r.runIndex}`, body, [[j.name, `${ctx.base}/jobs/${seg(j.id)}`], [`run ${r.runIndex}`, null]]);
}
