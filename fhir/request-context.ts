/**
 * Builds the {@link FhirRequestContext} every handler receives from a {@link FhirRequest}: its tenant, store,
 * client, and a request id (the caller's when it is sane, else a new one).
 */
import { randomUUID } from 'node:crypto';
import { referenceData, type ReferenceData } from '../src/availability/reference-data.js';
import type { TenantConfig } from '../src/config.js';
import type { Store } from '../src/store/database.js';
import type { FhirRequestContext } from './access.js';
import type { FhirRequest } from './fhir-request.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The context of a request to `tenant`; the request id is the caller's `X-Request-Id` when it is sane. */
export function requestContext(request: FhirRequest, tenant: TenantConfig, store: Store): FhirRequestContext {
  const given = request.requestId;
  const used = request.store ?? store;
  let reference: Promise<ReferenceData> | undefined;
  return {
    tenant,
    store: used,
    // Left there by the authentication middleware; undefined when none ran (tests, public paths).
    client: request.client,
    requestId: given && REQUEST_ID.test(given) ? given : randomUUID(),
    referenceData: () => (reference ??= referenceData(used, tenant.id)),
    ...(request.admission ? { admission: request.admission } : {}),
  };
}
