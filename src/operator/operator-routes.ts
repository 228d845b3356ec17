/**
 * The operator's HTTP surface (issue 15; DESIGN.md section 2): `/healthz` (open), `/readyz` (open, without tenant
 * ids, names or error text; the full report for an operator), `/status` (the console, with its sign-in form) and
 * `/metrics` (operator only unless `metrics.open`).
 */
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { readiness, type ReadinessReport, type SyncHealthSource } from '../readiness.js';
import type { Store } from '../store/database.js';
import type { WorkLeases } from '../leases/work-leases.js';
import { renderConsolePage } from './console-page.js';
import { tenantConsole } from './console-model.js';
import { renderLoginPage } from './login-page.js';
import { operatorSees, type OperatorAuth, type OperatorIdentity } from './operator-auth.js';
import type { UpstreamStats } from './upstream-stats.js';

export interface OperatorRoutesOptions {
  config: Config;
  auth: OperatorAuth;
  metrics: Registry;
  upstream: UpstreamStats;
  store: () => Store | undefined;
  sync: () => SyncHealthSource | undefined;
  leases: () => Pick<WorkLeases, 'instanceId' | 'holders'> | undefined;
  info: { version: string; startedAt: Date; instanceId: string };
  now: () => Date;
  logger: Logger;
}

const REALM = 'Bearer realm="switchboard operator"';

export function operatorRoutes(options: OperatorRoutesOptions): Router {
  const { config, auth } = options;
  const router = express.Router();
  const identify = (req: Request): Promise<OperatorIdentity | undefined> =>
    auth.identify({ authorization: req.get('authorization'), cookie: req.get('cookie') });
  const report = (): Promise<ReadinessReport> =>
    readiness(options.store(), options.sync(), config.tenants, options.leases());
  const secure = (req: Request) => req.secure || (config.publicBaseUrl?.startsWith('https:') ?? false);
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store');

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (req, res) => {
    const [full, operator] = await Promise.all([report(), identify(req)]);
    noStore(res).status(full.ready ? 200 : 503);
    if (operator) {
      res.json(visibleReport(full, operator));
      return;
    }
    // Open to load balancers: whether this instance can serve, and no more.
    const tenants = Object.values(full.tenants);
    res.json({
      ready: full.ready,
      store: full.store,
      tenants: { total: tenants.length, ready: tenants.filter((t) => t.ready).length },
    });
  });

  router.get('/status', async (req, res) => {
    const operator = await identify(req);
    noStore(res);
    if (!operator) {
      res.status(401).set('WWW-Authenticate', REALM).type('html').send(renderLoginPage());
      return;
    }
    const store = options.store();
    const full = await report();
    const now = options.now();
    const tenants = config.tenants.filter((t) => operatorSees(operator.client, t.id));
    const consoles = store
      ? await Promise.all(
          tenants.map((t) =>
            tenantConsole(
              {
                store,
                upstream: options.upstream,
                webhookAttentionAfterSeconds: config.webhooks.attentionAfterSeconds,
              },
              t,
              full.tenants[t.id],
              now,
            ),
          ),
        )
      : [];
    res.type('html').send(
      renderConsolePage(
        consoles,
        {
          ...options.info,
          storeOk: full.store === 'ok',
          zones: Object.fromEntries(config.tenants.map((t) => [t.id, t.timezone ?? 'UTC'])),
          session: operator.session,
        },
        now,
      ),
    );
  });

  const form = express.urlencoded({ extended: false, limit: '8kb' });
  router.post('/status/login', form, async (req, res) => {
    const token = typeof req.body?.token === 'string' ? (req.body.token as string) : '';
    const cookie = token ? await auth.signIn(token, { secure: secure(req) }) : undefined;
    noStore(res);
    if (!cookie) {
      res
        .status(401)
        .type('html')
        .send(renderLoginPage({ problem: "That is not an operator's token. Check it and try again." }));
      return;
    }
    res.set('Set-Cookie', cookie).redirect(303, '/status');
  });

  router.post('/status/logout', async (req, res) => {
    noStore(res)
      .set('Set-Cookie', await auth.signOut(req.get('cookie')))
      .redirect(303, '/status');
  });

  router.get('/metrics', async (req, res) => {
    if (!config.metrics.open && !(await identify(req))) {
      res
        .status(401)
        .set('WWW-Authenticate', REALM)
        .type('text')
        .send(
          'metrics need an operator token (Authorization: Bearer …), or metrics.open in the configuration\n',
        );
      return;
    }
    res.type(options.metrics.contentType).send(await options.metrics.metrics());
  });

  // A failure here (the store gone mid-request) is logged and answered in a sentence, never with a stack trace.
  router.use(((err, req, res, _next) => {
    void _next;
    options.logger.error({ err, path: req.path }, 'operator page failed');
    if (res.headersSent) return;
    noStore(res).status(500).type('text').send('Switchboard could not answer this page; its log says why.\n');
  }) as ErrorRequestHandler);

  return router;
}

/** The readiness report limited to the tenants the operator may see. */
function visibleReport(report: ReadinessReport, operator: OperatorIdentity): ReadinessReport {
  return {
    ...report,
    tenants: Object.fromEntries(
      Object.entries(report.tenants).filter(([id]) => operatorSees(operator.client, id)),
    ),
  };
}
