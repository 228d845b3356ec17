/**
 * The bookings chart of the operator console (issue 15): stacked bars per time bucket — booked, failed, pending —
 * as inline SVG, so the page needs no script and no build step. Every bar carries a `<title>` with its figures.
 */
import type { BookingBucket } from './booking-figures.js';
import { escapeHtml } from './html.js';

export const CHART_COLOURS = { booked: '#1a7f37', failed: '#cf222e', pending: '#8c959f' } as const;

/** An SVG bar chart of `buckets`, labelled by `label(start)` under every `labelEvery`-th bar. */
export function bookingChart(
  buckets: readonly BookingBucket[],
  options: { title: string; label: (start: Date) => string; labelEvery: number },
): string {
  const width = 560;
  const height = 140;
  const top = 10;
  const bottom = 22;
  const left = 30;
  const plot = height - top - bottom;
  const max = Math.max(1, ...buckets.map((b) => b.booked + b.failed + b.pending));
  const step = (width - left) / Math.max(1, buckets.length);
  const bar = Math.max(2, step * 0.7);
  const scale = (n: number) => (n / max) * plot;
  const bars = buckets
    .map((b, i) => {
      const x = left + i * step + (step - bar) / 2;
      let y = top + plot;
      const parts = (['booked', 'failed', 'pending'] as const)
        .filter((k) => b[k] > 0)
        .map((k) => {
          const h = scale(b[k]);
          y -= h;
          return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${CHART_COLOURS[k]}"/>`;
        })
        .join('');
      const start = new Date(b.start);
      const label =
        i % options.labelEvery === 0
          ? `<text x="${(x + bar / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.label(start))}</text>`
          : '';
      const tip = `${options.label(start)}: ${b.booked} booked, ${b.failed} failed, ${b.pending} pending`;
      return `<g><title>${escapeHtml(tip)}</title><rect x="${(left + i * step).toFixed(1)}" y="${top}" width="${step.toFixed(1)}" height="${plot}" fill="transparent"/>${parts}</g>${label}`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">
<title>${escapeHtml(options.title)}</title>
<line x1="${left}" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#999"/>
<text x="${left - 4}" y="${top + 8}" text-anchor="end">${max}</text><text x="${left - 4}" y="${top + plot}" text-anchor="end">0</text>
${bars}</svg>`;
}
