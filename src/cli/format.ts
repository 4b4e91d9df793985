/** Plain-text formatting of the CLI's listings. */

/** A table with a header row; columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `1.2s`, `3m 04s`, `2h 05m`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** An instant as `YYYY-MM-DD HH:MM:SS` UTC, or `-`. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

/** A run's duration: from start to end, or to now while it runs. */
export function runDuration(r: { startedAt: number | null; finishedAt: number | null }, now: number): string {
  if (r.startedAt === null) return '-';
  return duration((r.finishedAt ?? now) - r.startedAt);
}

/** Parameters as `k=v` pairs, pipeline first, then `step.k=v` by step title. */
export function paramsText(p: { pipeline: Readonly<Record<string, unknown>>; steps: Readonly<Record<string, Readonly<Record<string, unknown>>>> }, titles: (uuid: string) => string): string {
  const parts = Object.entries(p.pipeline).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  for (const [uuid, values] of Object.entries(p.steps)) for (const [k, v] of Object.entries(values)) parts.push(`${titles(uuid)}.${k}=${JSON.stringify(v)}`);
  return parts.join(' ');
}

/** The last `n` lines of a text. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(Math.max(0, lines.length - n));
}

/** Writes JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An instant as wall-clock time in a zone: `2026-12-05 03:00 Europe/Berlin`. */
export function zoned(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${timeZone}`;
}

/** What a previewed occurrence's DST label says, as a suffix (`''` for a plain one). */
export function dstNote(o: { readonly dst?: string; readonly skipped?: string }): string {
  if (o.skipped !== undefined) return ' (skipped: DST gap)';
  if (o.dst === 'shifted') return ' (DST gap: shifted)';
  if (o.dst === 'first') return ' (DST: first of a repeated time)';
  if (o.dst === 'second') return ' (DST: second of a repeated time)';
  return '';
}
