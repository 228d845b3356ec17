/**
 * Migration 0021, patient tag tokens: a patient's `meta.tag` codings are search tokens (`_tag`: `system|code` and
 * `code`, as `codeTokens` writes them), so the patients awaiting review are an index-only count at every metrics
 * scrape rather than a text search of every stored Patient. The write path indexes patients written from now on;
 * this indexes the current version of those stored before. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

const PARAM = '_tag';
/** Patients read per page, and token rows per insert (5 values each: well under SQLite's variable limit). */
const PAGE = 500;
const ROWS_PER_INSERT = 100;

interface TokenRow {
  tenant_id: string;
  resource_type: 'Patient';
  resource_id: string;
  param: string;
  value: string;
}

function tagTokens(tenantId: string, id: string, json: string): TokenRow[] {
  const tags = (JSON.parse(json) as { meta?: { tag?: Array<{ system?: string; code?: string }> } }).meta?.tag;
  const values = new Set<string>();
  for (const { system, code } of tags ?? []) {
    if (!code) continue;
    if (system) values.add(`${system}|${code}`);
    values.add(code);
  }
  return [...values].map((value) => ({
    tenant_id: tenantId,
    resource_type: 'Patient',
    resource_id: id,
    param: PARAM,
    value,
  }));
}

async function up(db: Kysely<any>): Promise<void> {
  let after: { tenant: string; id: string } | undefined;
  for (;;) {
    let query = db
      .selectFrom('resources')
      .select(['tenant_id', 'id', 'resource'])
      .where('resource_type', '=', 'Patient')
      .where('deleted', '=', 0)
      .where('resource', 'like', '%"tag"%');
    if (after) {
      const { tenant, id } = after;
      query = query.where((eb) =>
        eb.or([eb('tenant_id', '>', tenant), eb.and([eb('tenant_id', '=', tenant), eb('id', '>', id)])]),
      );
    }
    const rows = (await query.orderBy('tenant_id').orderBy('id').limit(PAGE).execute()) as Array<{
      tenant_id: string;
      id: string;
      resource: string;
    }>;
    const tokens = rows.flatMap((row) => tagTokens(row.tenant_id, row.id, row.resource));
    for (let i = 0; i < tokens.length; i += ROWS_PER_INSERT) {
      await db
        .insertInto('search_tokens')
        .values(tokens.slice(i, i + ROWS_PER_INSERT))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = { tenant: last.tenant_id, id: last.id };
  }
}

async function down(db: Kysely<any>): Promise<void> {
  await db
    .deleteFrom('search_tokens')
    .where('resource_type', '=', 'Patient')
    .where('param', '=', PARAM)
    .execute();
}

/** Migration 0021: the tags of stored patients indexed as search tokens. */
export const migration0021PatientTagTokens: Migration = { up, down };
