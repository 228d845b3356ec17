/**
 * `GET /status`, the operator console (issue 15; DESIGN.md section 7): per tenant, in a practice manager's words —
 * booking success, what needs a person, the records system, freshness, webhooks — with the technical detail one
 * click away (`<details>`). Server-rendered HTML, no script; no PHI (Task descriptions name no patient).
 */
import { bookingChart, CHART_COLOURS } from './booking-chart.js';
import type { BookingFigures } from './booking-figures.js';
import type { StreamRow, TenantConsole, WebhookRow } from './console-model.js';
import { escapeHtml as e } from './html.js';
import {
  agoInWords,
  durationInWords,
  refusalInWords,
  STREAM_WORDS,
  upstreamFailureInWords,
  webhookFailureAdvice,
} from './plain-words.js';

export interface ConsolePageInfo {
  version: string;
  startedAt: Date;
  instanceId: string;
  storeOk: boolean;
  /** The zone times are shown in, per tenant (its configured zone, else UTC). */
  zones: Readonly<Record<string, string>>;
  /** The operator signed in with a session cookie (shows a sign-out button). */
  session: boolean;
}

const percent = (n: number | null): string => (n === null ? '—' : `${Math.round(n * 100)} %`);

export function renderConsolePage(
  tenants: readonly TenantConsole[],
  info: ConsolePageInfo,
  now: Date,
): string {
  const problems = tenants.filter((t) => t.attention.length > 0).length;
  const headline = !info.storeOk
    ? 'Switchboard cannot reach its database'
    : problems === 0
      ? 'All is well'
      : `${problems === 1 && tenants.length === 1 ? 'Something needs' : `${problems} practice${problems === 1 ? '' : 's'} need`} attention`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard — ${e(headline)}</title>
<style>${STYLE}</style></head>
<body><header><h1>${e(headline)}</h1>
<p class="meta">Figures as of ${e(now.toISOString().slice(0, 19).replace('T', ' '))} UTC — reload the page for newer ones.
${info.session ? '<form method="post" action="/status/logout" class="inline"><button type="submit">Sign out</button></form>' : ''}</p>
</header>
${tenants.map((t) => tenantSection(t, info.zones[t.id] ?? 'UTC', now, info.instanceId)).join('\n')}
<footer><details><summary>Technical details</summary>
<p>Version ${e(info.version)}, instance <code>${e(info.instanceId)}</code>, up since ${e(info.startedAt.toISOString())};
database ${info.storeOk ? 'reachable' : 'unreachable'}. Records-system figures are what this instance saw.
Machine-readable: <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a>.</p></details></footer>
</body></html>`;
}

function tenantSection(t: TenantConsole, zone: string, now: Date, instanceId: string): string {
  const state =
    t.attention.length > 0
      ? `<span class="badge bad">needs attention</span>`
      : t.ready
        ? `<span class="badge good">working normally</span>`
        : `<span class="badge warn">catching up</span>`;
  return `<section class="tenant" data-tenant="${e(t.id)}">
<h2>${e(t.name)} ${state}</h2>
${attentionBlock(t)}
${bookingsBlock(t, zone)}
${recordsBlock(t, now)}
${freshnessBlock(t.streams, now)}
${webhooksBlock(t.webhooks, now)}
<details class="tech"><summary>Technical detail</summary><p>Tenant id <code>${e(t.id)}</code>; FHIR base <code>/fhir/${e(t.id)}</code>.${
    t.syncLeaseHolder === undefined
      ? ''
      : ` Sync and booking recovery run on instance <code>${e(t.syncLeaseHolder ?? 'none right now')}</code>${
          t.syncLeaseHolder === instanceId ? ' (this one)' : ''
        }.`
  }</p></details>
</section>`;
}

function attentionBlock(t: TenantConsole): string {
  if (t.attention.length === 0)
    return `<div class="attention none"><h3>Needs attention</h3><p>Nothing needs a person right now.</p></div>`;
  const items = t.attention
    .map(
      (item) =>
        `<li data-kind="${e(item.kind)}"><strong>${e(item.title)}</strong><p>${e(item.action)}</p>${
          item.detail
            ? `<details><summary>Technical detail</summary><pre>${e(item.detail)}</pre></details>`
            : ''
        }</li>`,
    )
    .join('');
  return `<div class="attention"><h3>Needs attention</h3><ul>${items}</ul></div>`;
}

function bookingsBlock(t: TenantConsole, zone: string): string {
  const hour = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: zone });
  const day = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', timeZone: zone });
  const refusedLines = (f: BookingFigures) =>
    Object.entries(f.refused)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${n} ${e(refusalInWords(code))}`)
      .join('<br>') || '—';
  const row = (label: string, a: string, b: string, cls = '') =>
    `<tr${cls ? ` class="${cls}"` : ''}><th scope="row">${label}</th><td>${a}</td><td>${b}</td></tr>`;
  const { day: d, week: w } = t;
  return `<div class="bookings"><h3>Bookings</h3>
<p class="headline">Booking success rate: <strong class="rate">${percent(d.successRate)}</strong> in the last 24 hours
(${d.booked} of ${d.attempted - d.pending} finished), ${percent(w.successRate)} over 7 days.</p>
<table><thead><tr><th></th><th>Last 24 hours</th><th>Last 7 days</th></tr></thead><tbody>
${row('Attempted', String(d.attempted), String(w.attempted))}
${row('Booked in the records system', String(d.booked), String(w.booked))}
${row('Refused', `${d.refusedTotal}<div class="why">${refusedLines(d)}</div>`, `${w.refusedTotal}<div class="why">${refusedLines(w)}</div>`)}
${row('Rolled back (written, then undone)', String(d.rolledBack), String(w.rolledBack))}
${row('Handed to staff', String(d.handedToStaff), String(w.handedToStaff))}
${row('Still being confirmed', String(d.pending), String(w.pending))}
${row('Success rate', percent(d.successRate), percent(w.successRate), 'rate-row')}
</tbody></table>
<div class="charts"><figure>${bookingChart(d.buckets, { title: 'Bookings per hour, last 24 hours', label: (s) => hour.format(s), labelEvery: 4 })}
<figcaption>Per hour, last 24 hours (${e(zone)})</figcaption></figure>
<figure>${bookingChart(w.buckets, { title: 'Bookings per day, last 7 days', label: (s) => day.format(s), labelEvery: 1 })}
<figcaption>Per day, last 7 days</figcaption></figure></div>
<p class="legend"><span style="background:${CHART_COLOURS.booked}"></span>booked <span style="background:${CHART_COLOURS.failed}"></span>refused, rolled back or handed to staff <span style="background:${CHART_COLOURS.pending}"></span>being confirmed</p>
<details><summary>How these are counted</summary><p>From the booking sagas Switchboard keeps: every new booking that
got as far as holding the time. The success rate is booked ÷ finished (bookings still being confirmed are left out
until they finish). Requests refused before a hold (invalid input, unknown references) are counted only in
<code>switchboard_bookings_total</code> on /metrics. Refusal codes: ${
    Object.keys({ ...d.refused, ...w.refused })
      .map((c) => `<code>${e(c)}</code>`)
      .join(', ') || 'none'
  }.</p></details></div>`;
}

function recordsBlock(t: TenantConsole, now: Date): string {
  const r = t.records;
  const reach =
    r.reachable === 'yes'
      ? '<span class="badge good">reachable</span>'
      : r.reachable === 'no'
        ? '<span class="badge bad">not reachable</span>'
        : '<span class="badge warn">no calls yet</span>';
  const latency =
    r.p50Ms === null
      ? 'No answered calls in the last 5 minutes.'
      : `Answers typically in ${Math.round(r.p50Ms)} ms; the slowest 1 % took ${Math.round(r.p99Ms ?? 0)} ms or more (last 5 minutes).`;
  const share = r.rateLimitPerMinute > 0 ? r.callsLastMinute / r.rateLimitPerMinute : 0;
  const lastError = r.lastError;
  const problem = lastError
    ? `<p class="last-error">Last problem ${e(agoInWords(lastError.at, now))}: ${e(upstreamFailureInWords(lastError.call.outcome))}</p>
<details><summary>Technical detail</summary><pre>${e(`${lastError.call.endpoint} → ${lastError.call.outcome}${lastError.call.status ? ` (HTTP ${lastError.call.status})` : ''}: ${lastError.call.error ?? ''}\nat ${lastError.at}`)}</pre></details>`
    : '<p>No problems seen since this instance started.</p>';
  return `<div class="records"><h3>Records system ${reach}</h3>
<p>${latency}</p>
<p>${r.callsLastMinute} calls in the last minute, of ${r.rateLimitPerMinute.toLocaleString('en-US')} allowed (${Math.round(share * 100)} % of the limit).</p>
${problem}</div>`;
}

function freshnessBlock(streams: readonly StreamRow[], now: Date): string {
  if (streams.length === 0)
    return '<div class="freshness"><h3>How fresh the data is</h3><p>Nothing has been read from the records system yet.</p></div>';
  const words = (s: StreamRow) =>
    s.lastSuccessAt === null
      ? 'not read yet'
      : s.health === 'fresh'
        ? `up to date — last read ${agoInWords(s.lastSuccessAt, now)}`
        : s.health === 'lagging'
          ? `behind — last read ${agoInWords(s.lastSuccessAt, now)}`
          : `not updating — last read ${agoInWords(s.lastSuccessAt, now)}`;
  const rows = streams
    .map(
      (s) => `<tr data-health="${e(s.health)}"><th scope="row">${e(STREAM_WORDS[s.stream] ?? s.stream)}</th>
<td><span class="dot ${e(s.health)}"></span>${e(words(s))}</td>
<td><details><summary>detail</summary><code>${e(s.stream)}</code> ${e(s.health)}${s.lastSuccessAt ? `, last success ${e(s.lastSuccessAt)}` : ''}${s.lastError ? `<pre>${e(s.lastError)}</pre>` : ''}</details></td></tr>`,
    )
    .join('');
  return `<div class="freshness"><h3>How fresh the data is</h3><table><tbody>${rows}</tbody></table></div>`;
}

function webhooksBlock(webhooks: readonly WebhookRow[], now: Date): string {
  if (webhooks.length === 0)
    return '<div class="webhooks"><h3>Notifications (webhooks)</h3><p>No system subscribes to notifications.</p></div>';
  const state = (w: WebhookRow) =>
    w.status === 'active'
      ? w.failingSince
        ? `<span class="badge bad">failing for ${e(durationInWords(now.getTime() - Date.parse(w.failingSince)))}</span>`
        : '<span class="badge good">delivering</span>'
      : w.status === 'requested'
        ? '<span class="badge warn">waiting for handshake</span>'
        : w.status === 'off'
          ? '<span class="badge bad">switched off</span>'
          : '<span class="badge bad">handshake failed</span>';
  const rows = webhooks
    .map((w) => {
      const f = w.failures;
      const lastFailure = f
        ? `${e(agoInWords(f.lastAt, now))} — ${f.lastStatus === null ? 'no answer' : `answered ${f.lastStatus}`}`
        : '—';
      return `<tr data-subscription="${e(w.id)}"><td><code>${e(w.endpoint)}</code></td><td>${state(w)}</td>
<td>${e(agoInWords(w.lastSuccessAt, now))}</td><td class="last-failure">${lastFailure}</td><td>${w.pending}</td><td>${w.deadLettered}</td>
<td><details><summary>detail</summary>Subscription/${e(w.id)}${
        f
          ? `<p>${e(webhookFailureAdvice(f.lastStatus))}</p><pre>${e(`${f.count} failed attempts${f.failing ? ' since the last success' : ' in the last week'}\nlast at ${f.lastAt}: ${f.lastReason}`)}</pre>`
          : ''
      }</details></td></tr>`;
    })
    .join('');
  return `<div class="webhooks"><h3>Notifications (webhooks)</h3>
<table><thead><tr><th>Sent to</th><th>State</th><th>Last success</th><th>Last failure</th><th>Waiting</th><th>Given up</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.5rem;max-width:68rem;color:#1f2328}
h1{margin:.2rem 0}h2{margin:2rem 0 .5rem;border-bottom:2px solid #d0d7de;padding-bottom:.3rem}h3{margin:1.2rem 0 .4rem}
.meta{color:#57606a}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}
.badge{font-size:.75rem;font-weight:600;padding:.1rem .5rem;border-radius:1rem;vertical-align:middle;white-space:nowrap}
.good{background:#dafbe1;color:#1a7f37}.warn{background:#fff8c5;color:#9a6700}.bad{background:#ffebe9;color:#cf222e}
.attention{border-left:4px solid #cf222e;background:#fff5f5;padding:.2rem 1rem .6rem;border-radius:4px}
.attention.none{border-color:#1a7f37;background:#f3fbf5}.attention li{margin:.5rem 0}.attention p{margin:.2rem 0}
.headline{font-size:1.05rem}.rate{font-size:1.3rem}.why{color:#57606a;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;flex:1 1 24rem}.chart{width:100%;height:auto}
.chart text{font-size:10px;fill:#57606a}figcaption{color:#57606a;font-size:.85rem}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:middle}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem}.dot.fresh{background:#1a7f37}
.dot.lagging{background:#9a6700}.dot.failing{background:#cf222e}pre{white-space:pre-wrap;font-size:.8rem;background:#f6f8fa;padding:.4rem}
details summary{cursor:pointer;color:#0969da;font-size:.85rem}.inline{display:inline}footer{margin-top:2rem;color:#57606a}`;
