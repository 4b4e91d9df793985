/** HTML building with escaping: everything shown is user data until proven otherwise. */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** An escaped URL path segment (ids are user data too). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** `YYYY-MM-DD HH:MM:SS`Z or `-`. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)}Z`;
}

/** Wall-clock time in a zone: `2026-12-07 06:00`. */
export function inZone(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

export function took(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

/** A status badge (the class is from a fixed list, never from data). */
export function badge(status: string): string {
  const known = ['DRAFT', 'PENDING', 'STARTED', 'PAUSED', 'SUCCESS', 'FAILURE', 'ABORTED'];
  const cls = known.includes(status) ? status.toLowerCase() : 'unknown';
  return `<span class="badge ${cls}" data-status="${esc(status)}">${esc(status)}</span>`;
}

/** The page around a body. Scripts and styles come from the dashboard's own files (CSP: no inline code). */
export function page(base: string, title: string, body: string, crumbs: readonly [string, string | null][] = []): string {
  const nav = [[`${base}/`, 'Jobs'] as [string, string | null], ...crumbs]
    .map(([label, href], i) => (i === 0 ? `<a href="${esc(label)}">Jobs</a>` : href ? `<a href="${esc(href)}">${esc(label)}</a>` : `<span>${esc(label)}</span>`))
    .join(' <span class="sep">/</span> ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · pipeline-jobs</title>
<link rel="stylesheet" href="${esc(base)}/assets/style.css">
<script src="${esc(base)}/assets/app.js" defer></script>
</head><body>
<header><span class="brand">pipeline-jobs</span><nav>${nav}</nav></header>
<main>${body}</main>
</body></html>`;
}
