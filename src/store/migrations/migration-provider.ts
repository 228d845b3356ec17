/**
 * The store's migrations, listed statically (DESIGN.md section 3): no filesystem scanning, so the same list runs
 * under tsx, after tsc and from a bundle. Names sort in application order; append, never rename or reorder.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { migration0001Initial } from './0001-initial.js';

const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': migration0001Initial,
});

/** A kysely migration provider over the frozen migration list. */
export const staticMigrationProvider: MigrationProvider = Object.freeze({
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
});
