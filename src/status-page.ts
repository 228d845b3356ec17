/**
 * `GET /status`: the page a practice's IT person opens first — is every tenant syncing, since when, and what
 * went wrong. Plain server-rendered HTML, no scripts; it refreshes itself every 5 seconds. No PHI on it.
 */
import type { ReadinessReport } from './readiness.js';

const escape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const COLOURS = { fresh: '#1a7f37', lagging: '#9a6700', failing: '#cf222e' } as const;

function ago(iso: string | null, now: Date): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

export function renderStatusPage(
  report: ReadinessReport,
  info: { version: string; startedAt: Date; tenantNames: Record<string, string>; instanceId?: string },
  now: Date = new Date(),
): string {
  const tenants = Object.entries(report.tenants)
    .map(([id, tenant]) => {
      const rows = Object.entries(tenant.streams)
        .map(
          ([stream, s]) => `<tr><td>${escape(stream)}</td>
<td><span class="dot" style="background:${COLOURS[s.health]}"></span>${s.health}</td>
<td title="${escape(s.lastSuccessAt ?? '')}">${ago(s.lastSuccessAt, now)}</td>
<td>${s.lastError ? escape(s.lastError) : ''}</td></tr>`,
        )
        .join('\n');
      const holder =
        tenant.syncLeaseHolder === undefined
          ? ''
          : `<p>Sync and booking recovery run on instance <code>${
              tenant.syncLeaseHolder === null ? 'none right now' : escape(tenant.syncLeaseHolder)
            }</code>${tenant.syncLeaseHolder === info.instanceId ? ' (this one)' : ''}.</p>`;
      return `<section><h2>${escape(info.tenantNames[id] ?? id)} <small>tenant <code>${escape(id)}</code> —
${tenant.ready ? 'ready' : 'not ready'}</small></h2>${holder}
<table><thead><tr><th>stream</th><th>health</th><th>last success</th><th>last error</th></tr></thead>
<tbody>${rows || '<tr><td colspan="4">no sync pass has finished yet</td></tr>'}</tbody></table></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Switchboard status</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left}small{color:#555;font-weight:normal}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem}</style></head>
<body><h1>Switchboard ${report.ready ? 'is ready' : 'is not ready'}</h1>
<p>Store: ${report.store}. Version ${escape(info.version)}, up since ${info.startedAt.toISOString()}${
    info.instanceId ? `, instance <code>${escape(info.instanceId)}</code>` : ''
  }.
Machine-readable: <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a>.</p>
${tenants}
</body></html>`;
}
