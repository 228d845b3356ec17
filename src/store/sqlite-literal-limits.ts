/**
 * `LIMIT` and `OFFSET` written into SQLite statements as integer literals instead of bound parameters (issue 16).
 *
 * SQLite (3.53 here) reads a bound `LIMIT ?` while planning and marks the statement to be re-prepared whenever
 * that parameter is bound again, so a cached statement with `limit ?` is compiled afresh on every execution: the
 * Slot store query took 0.28–0.37 ms with `limit ?` and 0.009 ms with `limit 101` (same plan, same rows), and a
 * keyed lookup 35 µs instead of 3 µs. With literals each distinct limit is one cached statement; a store's
 * queries use a handful of limits (a page size plus one, fixed batch sizes), so the statement cache stays small.
 * PostgreSQL plans bound limits without re-preparing and keeps them bound.
 */
import {
  LimitNode,
  OffsetNode,
  SelectQueryNode,
  ValueNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/** A plain integer, safe to write into SQL as is; anything else stays a bound parameter. */
function literalInteger(node: LimitNode['limit']): ValueNode | undefined {
  if (!ValueNode.is(node) || node.immediate) return undefined;
  const { value } = node;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return ValueNode.createImmediate(value);
  if (typeof value === 'bigint') return ValueNode.createImmediate(value);
  return undefined;
}

/** The kysely plugin of the SQLite store. */
export class SqliteLiteralLimitsPlugin implements KyselyPlugin {
  /**
   * The top-level select's limit and offset only: every query passes through here, and walking the whole tree
   * cost more than the lookups it served. A limit inside a subquery stays bound (none of the store's hot queries
   * has one).
   */
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (!SelectQueryNode.is(node) || (!node.limit && !node.offset)) return node;
    const limit = node.limit && literalInteger(node.limit.limit);
    const offset = node.offset && literalInteger(node.offset.offset);
    if (!limit && !offset) return node;
    return {
      ...node,
      ...(limit ? { limit: LimitNode.create(limit) } : {}),
      ...(offset ? { offset: OffsetNode.create(offset) } : {}),
    };
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
