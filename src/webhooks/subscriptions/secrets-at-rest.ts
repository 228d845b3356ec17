/**
 * The start-up pass of secrets at rest (issue 15 item 5; DESIGN.md section 7), run after the migrations by every
 * start and by `switchboard migrate`:
 *
 * 1. the key check: a store that holds secrets refuses a start without a key ("missing") or with keys none of
 *    which opens its check value ("wrong"), naming the key id it expects;
 * 2. sealing: every signing secret and channel-header list not sealed with the current key — plaintext from a
 *    store older than encryption at rest, or sealed with a previous key before a rotation — is sealed with it, and
 *    the Subscription resources' stored header values are masked;
 * 3. the check value is sealed with the current key, once everything else is.
 *
 * Idempotent and safe to run on several instances at once: each row is rewritten only if it is still what was read.
 */
import { ConfigError } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/database.js';
import { isSealed, sealedKeyId, SecretKeyError, type SecretBox } from '../../store/secret-box.js';
import {
  putSecretKeyCheck,
  replaceSubscriptionResourceText,
  replaceSubscriptionSecrets,
  secretKeyCheck,
  subscriptionCount,
  subscriptionResourcesWithHeaders,
  subscriptionSecretColumns,
  type SubscriptionSecretColumns,
} from '../../store/secret-rows.js';
import { secretContext } from './subscription-record.js';
import { maskedHeaderLine, type BackportSubscription } from './subscription-resource.js';

/** The associated data of the check value, and the value itself. */
const CHECK_CONTEXT = 'switchboard/secret-key-check';
const CHECK_VALUE = 'switchboard secret key check';
const PAGE = 200;

/** What {@link prepareSecretsAtRest} did. */
export interface SecretsAtRestReport {
  /** Subscriptions whose secrets were sealed, or resealed with the current key. */
  resealed: number;
  /** Stored Subscription versions whose header values were masked. */
  masked: number;
}

/**
 * Checks the key against the store and seals whatever is not sealed with the current key.
 * @throws SecretKeyError with a message for the operator when the key is missing or wrong
 */
export async function prepareSecretsAtRest(store: Store): Promise<SecretsAtRestReport> {
  const box = store.secrets;
  const check = await secretKeyCheck(store.db);
  if (!box.canSeal) {
    // Without a key the server can run, but not on a store that holds secrets: it could not sign a delivery.
    const count = await subscriptionCount(store);
    if (count > 0 && check) {
      throw new SecretKeyError(
        `this store holds secrets encrypted with key ${check.key_id}, and no key is configured: set ` +
          'SWITCHBOARD_SECRET_KEY (or SWITCHBOARD_SECRET_KEY_FILE) to that key',
      );
    }
    if (count > 0) {
      throw new SecretKeyError(
        `this store holds ${count} webhook subscription(s) whose signing secrets are not encrypted yet, and no ` +
          'key is configured: set SWITCHBOARD_SECRET_KEY (or SWITCHBOARD_SECRET_KEY_FILE) to a new key ' +
          '(openssl rand -base64 32) and start again to encrypt them',
      );
    }
    return { resealed: 0, masked: 0 };
  }
  if (check) {
    try {
      box.open(check.sealed, CHECK_CONTEXT);
    } catch {
      throw new SecretKeyError(
        `the configured secret key is not the one this store's secrets are encrypted with: the store expects ` +
          `key ${check.key_id}, the configuration gives ${box.keyIds.join(', ')}. Set SWITCHBOARD_SECRET_KEY ` +
          '(or SWITCHBOARD_SECRET_KEY_FILE) to that key; to change keys, give the new one first and the old one ' +
          'as a previous key (SWITCHBOARD_SECRET_KEY_PREVIOUS, or a second line in the key file)',
      );
    }
  }
  const resealed = await resealSubscriptions(store, box);
  const masked = await maskStoredHeaders(store);
  if (check?.key_id !== box.currentKeyId) {
    await store.write((trx) =>
      putSecretKeyCheck(trx, {
        key_id: box.currentKeyId ?? '',
        sealed: box.seal(CHECK_VALUE, CHECK_CONTEXT),
        updated_at: store.now().toISOString(),
      }),
    );
  }
  return { resealed, masked };
}

async function resealSubscriptions(store: Store, box: SecretBox): Promise<number> {
  let resealed = 0;
  let after: { tenantId: string; id: string } | undefined;
  for (;;) {
    const page = await subscriptionSecretColumns(store, after, PAGE);
    const last = page[page.length - 1];
    if (!last) return resealed;
    after = { tenantId: last.tenant_id, id: last.id };
    const stale = page.filter((row) => needsResealing(row, box));
    if (stale.length === 0) continue;
    await store.write(async (trx) => {
      for (const row of stale) {
        if (await replaceSubscriptionSecrets(trx, row, resealedColumns(row, box))) resealed += 1;
      }
    });
  }
}

function needsResealing(row: SubscriptionSecretColumns, box: SecretBox): boolean {
  return [row.secret, row.previous_secret, row.headers].some(
    (value) => value !== null && sealedKeyId(value) !== box.currentKeyId,
  );
}

function resealedColumns(
  row: SubscriptionSecretColumns,
  box: SecretBox,
): Pick<SubscriptionSecretColumns, 'secret' | 'previous_secret' | 'headers'> {
  const reseal = (value: string, field: 'secret' | 'headers'): string => {
    const context = secretContext(row.tenant_id, row.id, field);
    if (sealedKeyId(value) === box.currentKeyId) return value;
    return box.seal(isSealed(value) ? box.open(value, context) : value, context);
  };
  return {
    secret: reseal(row.secret, 'secret'),
    previous_secret: row.previous_secret === null ? null : reseal(row.previous_secret, 'secret'),
    headers: row.headers === null ? null : reseal(row.headers, 'headers'),
  };
}

/** Masks header values in stored Subscription versions written before encryption at rest. */
async function maskStoredHeaders(store: Store): Promise<number> {
  let masked = 0;
  for (const row of await subscriptionResourcesWithHeaders(store)) {
    const resource = JSON.parse(row.resource) as BackportSubscription;
    const header = resource.channel?.header;
    if (!header || header.every((line) => maskedHeaderLine(line) === line)) continue;
    const text = JSON.stringify({
      ...resource,
      channel: { ...resource.channel, header: header.map(maskedHeaderLine) },
    });
    await store.write((trx) => replaceSubscriptionResourceText(trx, row, text));
    masked += 1;
  }
  return masked;
}

/**
 * {@link prepareSecretsAtRest} at start-up: a missing or wrong key becomes a {@link ConfigError} (the command line
 * prints its message, no stack trace), and what was sealed is logged.
 */
export async function sealSecretsAtRest(store: Store, logger: Logger): Promise<void> {
  let report: SecretsAtRestReport;
  try {
    report = await prepareSecretsAtRest(store);
  } catch (error) {
    if (error instanceof SecretKeyError) throw new ConfigError(error.message);
    throw error;
  }
  if (!store.secrets.canSeal) {
    logger.warn(
      'no secret key configured (SWITCHBOARD_SECRET_KEY or SWITCHBOARD_SECRET_KEY_FILE): webhook subscriptions cannot be created',
    );
  }
  if (report.resealed > 0 || report.masked > 0) {
    logger.info(
      { resealed: report.resealed, masked: report.masked, keyId: store.secrets.currentKeyId },
      'secrets at rest sealed with the current key',
    );
  }
}
