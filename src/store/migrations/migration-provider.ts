/**
 * The store's migrations, listed statically (DESIGN.md section 3): no filesystem scanning, so the same list runs
 * under tsx, after tsc and from a bundle. Names sort in application order; append, never rename or reorder.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { migration0001Initial } from './0001-initial.js';
import { migration0002Audit } from './0002-audit.js';
import { migration0003Webhooks } from './0003-webhooks.js';
import { migration0004Booking } from './0004-booking.js';
import { migration0005SourceHash } from './0005-source-hash.js';
import { migration0006PatientRegistrations } from './0006-patient-registrations.js';
import { migration0007AppointmentClaims } from './0007-appointment-claims.js';
import { migration0009Leases } from './0009-leases.js';
import { migration0011SmartBackend } from './0011-smart-backend.js';
import { migration0012PrefixIndex } from './0012-prefix-index.js';
import { migration0013WebhookAttempts } from './0013-webhook-attempts.js';
import { migration0014SecretsAtRest } from './0014-secrets-at-rest.js';
import { migration0016Retention } from './0016-retention.js';
import { migration0017AvailabilityVersions } from './0017-availability-versions.js';
import { migration0020IdempotencyBinding } from './0020-idempotency-binding.js';
import { migration0021PatientTagTokens } from './0021-patient-tag-tokens.js';
import { migration0022SyncLookupIndexes } from './0022-sync-lookup-indexes.js';
import { migration0023KeptTableNotifications } from './0023-kept-table-notifications.js';
import { migration0024UnloggedRateLimits } from './0024-unlogged-rate-limits.js';
import { migration0025SearchTokenNotifications } from './0025-search-token-notifications.js';
import { migration0026MappedSourceHashes } from './0026-mapped-source-hashes.js';

const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': migration0001Initial,
  '0002-audit': migration0002Audit,
  '0003-webhooks': migration0003Webhooks,
  '0004-booking': migration0004Booking,
  '0005-source-hash': migration0005SourceHash,
  '0006-patient-registrations': migration0006PatientRegistrations,
  '0007-appointment-claims': migration0007AppointmentClaims,
  '0009-leases': migration0009Leases,
  '0011-smart-backend': migration0011SmartBackend,
  '0012-prefix-index': migration0012PrefixIndex,
  '0013-webhook-attempts': migration0013WebhookAttempts,
  '0014-secrets-at-rest': migration0014SecretsAtRest,
  '0016-retention': migration0016Retention,
  '0017-availability-versions': migration0017AvailabilityVersions,
  '0020-idempotency-binding': migration0020IdempotencyBinding,
  '0021-patient-tag-tokens': migration0021PatientTagTokens,
  '0022-sync-lookup-indexes': migration0022SyncLookupIndexes,
  '0023-kept-table-notifications': migration0023KeptTableNotifications,
  '0024-unlogged-rate-limits': migration0024UnloggedRateLimits,
  '0025-search-token-notifications': migration0025SearchTokenNotifications,
  '0026-mapped-source-hashes': migration0026MappedSourceHashes,
});

/** A kysely migration provider over the frozen migration list. */
export const staticMigrationProvider: MigrationProvider = Object.freeze({
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
});
