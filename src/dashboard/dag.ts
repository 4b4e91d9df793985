import { type Pipeline } from '../index.js';
import { parallelLayers } from '../executors-kit.js';
import { esc } from './html.js';

const W = 170;
const H = 44;
const GX = 60;
const GY = 22;
/** Room above the first row for edges that skip a layer (they arc over the steps between). */
const TOP = 34;

/**
 * The pipeline's DAG as an SVG, read-only: one column per parallel layer, edges as
 * curves. Each step node carries `data-step` so the page script can colour it by status.
 */
export function dagSvg(pipeline: Pipeline, statusOf: (uuid: string) => string): string {
  const layers = parallelLayers(pipeline.steps);
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((layer, i) => layer.forEach((id, j) => pos.set(id, { x: 10 + i * (W + GX), y: TOP + j * (H + GY) })));
  const layerOf = new Map<string, number>();
  layers.forEach((layer, i) => layer.forEach((id) => layerOf.set(id, i)));
  const width = 20 + layers.length * (W + GX) - GX;
  const height = TOP + 10 + Math.max(1, ...layers.map((l) => l.length)) * (H + GY) - GY;
  const edges: string[] = [];
  for (const s of pipeline.steps) {
    const to = pos.get(s.uuid)!;
    for (const from of s.incoming_connections) {
      const f = pos.get(from);
      if (!f) continue;
      const x1 = f.x + W;
      const y1 = f.y + H / 2;
      const x2 = to.x;
      const y2 = to.y + H / 2;
      const skips = (layerOf.get(s.uuid) ?? 0) - (layerOf.get(from) ?? 0) > 1;
      const arc = Math.min(f.y, to.y) - TOP + 6;
      edges.push(
        skips
          ? `<path class="edge" d="M${f.x + W / 2},${f.y} C${f.x + W / 2},${arc} ${to.x + W / 2},${arc} ${to.x + W / 2},${to.y}"/>`
          : `<path class="edge" d="M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}"/>`,
      );
    }
  }
  const nodes = pipeline.steps.map((s) => {
    const p = pos.get(s.uuid)!;
    const status = statusOf(s.uuid);
    const label = (s.title || s.uuid).length > 22 ? `${(s.title || s.uuid).slice(0, 21)}…` : s.title || s.uuid;
    return `<a href="#step-${esc(s.uuid)}"><g class="node ${esc(status.toLowerCase())}" data-step="${esc(s.uuid)}"><title>${esc(s.title)} (${esc(s.file_path)})</title>` +
      `<rect x="${p.x}" y="${p.y}" width="${W}" height="${H}" rx="8"/>` +
      `<text x="${p.x + 12}" y="${p.y + 19}" class="name">${esc(label)}</text>` +
      `<text x="${p.x + 12}" y="${p.y + 35}" class="state">${esc(status)}</text></g></a>`;
  });
  return `<svg class="dag" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="pipeline graph">${edges.join('')}${nodes.join('')}</svg>`;
}
