/** Audit-trail test helpers: a request's context, a read record, and a store whose write transactions are counted. */
import type { AuditContext } from '../../src/audit/audit-trail.js';
import type { Store } from '../../src/store/database.js';

export const auditCtx = (tenantId: string, requestId: string): AuditContext => ({
  tenant: { id: tenantId },
  client: { id: 'agent' },
  requestId,
});

export const slotRead = (id: string) => ({
  action: 'read',
  resourceType: 'Slot',
  resourceIds: [id],
  status: 200,
});

/** The store, with every write transaction counted. */
export function countingWrites(store: Store): { store: Store; writes: () => number } {
  let writes = 0;
  const counted: Store = Object.create(store) as Store;
  Object.defineProperty(counted, 'write', {
    value: <T>(fn: Parameters<Store['write']>[0]) => {
      writes += 1;
      return store.write(fn) as Promise<T>;
    },
  });
  return { store: counted, writes: () => writes };
}
