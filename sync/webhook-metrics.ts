/**
 * Prometheus metrics of the webhook dispatcher (DESIGN.md section 1 "Observable"): labelled by tenant and
 * outcome only — never by subscription endpoint or resource, which could carry PHI or explode cardinality.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The dispatcher's metrics, registered on one registry. */
export interface WebhookMetrics {
  deliveries: Counter<'tenant' | 'outcome'>;
  latency: Histogram<'tenant'>;
  pending: Gauge<'tenant'>;
  deadLetters: Gauge<'tenant'>;
  handshakes: Counter<'tenant' | 'outcome'>;
  heartbeats: Counter<'tenant' | 'outcome'>;
  disabled: Counter<'tenant' | 'reason'>;
}

/** Registers the metrics on `registry`; undefined without one. */
export function createWebhookMetrics(registry: Registry | undefined): WebhookMetrics | undefined {
  if (!registry) return undefined;
  const registers = [registry];
  return {
    deliveries: new Counter({
      name: 'switchboard_webhook_deliveries_total',
      help: 'Webhook delivery attempts by tenant and outcome (delivered, failed, dead-lettered, gone, refused)',
      labelNames: ['tenant', 'outcome'],
      registers,
    }),
    latency: new Histogram({
      name: 'switchboard_webhook_delivery_duration_seconds',
      help: 'Time from request to answer of webhook deliveries',
      labelNames: ['tenant'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    pending: new Gauge({
      name: 'switchboard_webhook_pending_deliveries',
      help: 'Webhook deliveries waiting to be delivered (in flight or waiting for a retry)',
      labelNames: ['tenant'],
      registers,
    }),
    deadLetters: new Gauge({
      name: 'switchboard_webhook_dead_letters',
      help: 'Webhook deliveries dead-lettered after their last attempt',
      labelNames: ['tenant'],
      registers,
    }),
    handshakes: new Counter({
      name: 'switchboard_webhook_handshakes_total',
      help: 'Subscription handshakes by tenant and outcome',
      labelNames: ['tenant', 'outcome'],
      registers,
    }),
    heartbeats: new Counter({
      name: 'switchboard_webhook_heartbeats_total',
      help: 'Subscription heartbeats by tenant and outcome',
      labelNames: ['tenant', 'outcome'],
      registers,
    }),
    disabled: new Counter({
      name: 'switchboard_webhook_subscriptions_disabled_total',
      help: 'Subscriptions switched off by the server, by reason (gone, failing, ended)',
      labelNames: ['tenant', 'reason'],
      registers,
    }),
  };
}
