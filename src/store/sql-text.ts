/**
 * SQL text with bound values for the store's searches (issue 16): the statements a FHIR search compiles to are
 * put together per request from the parsed criteria, and building them as kysely `sql` templates (frozen operation
 * nodes, reference parsing, a compiler pass) cost several times what SQLite took to run them. A {@link SqlText} is
 * just the text between the values and the values, nested templates spliced in as they are written; it becomes one
 * statement with the dialect's placeholders (`?`, `$1`) in {@link statementOf}. Values are always bound; text comes
 * only from this module's callers' own literals and closed lists (columns, comparison operators), never a request.
 */
import type { StoreDialect } from './dialect-capabilities.js';

/** A piece of SQL: `texts[0] value[0] texts[1] … value[n-1] texts[n]`, each value a bound parameter. */
export class SqlText {
  constructor(
    readonly texts: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** One statement to run: its text in the dialect's placeholder style and its parameters in order. */
export interface SqlStatement {
  sql: string;
  parameters: readonly unknown[];
}

/** The tagged template: `q\`a = ${value} and ${otherSqlText}\``. A {@link SqlText} value is spliced in, anything else bound. */
export function q(strings: TemplateStringsArray, ...values: unknown[]): SqlText {
  const texts: string[] = [strings[0] as string];
  const bound: unknown[] = [];
  for (let i = 0; i < values.length; i++) append(texts, bound, values[i], strings[i + 1] as string);
  return new SqlText(texts, bound);
}

/** Trusted text as it is (keywords, a literal limit, a quoted identifier from a closed list). */
export function raw(text: string): SqlText {
  return new SqlText([text], []);
}

/** The parts (SQL texts or values to bind) separated by `separator`. */
export function join(parts: readonly unknown[], separator = ', '): SqlText {
  const texts: string[] = [''];
  const bound: unknown[] = [];
  parts.forEach((part, i) => append(texts, bound, part, i === parts.length - 1 ? '' : separator));
  return new SqlText(texts, bound);
}

/** `"name"`: an identifier quoted as both dialects read it (names here come from closed lists). */
export function identifier(name: string): SqlText {
  return raw(`"${name.replace(/"/g, '""')}"`);
}

/** The empty text. */
export const EMPTY = raw('');

/** The statement `text` compiles to in `dialect`. */
export function statementOf(text: SqlText, dialect: StoreDialect): SqlStatement {
  const { texts, values } = text;
  let sql = texts[0] as string;
  for (let i = 0; i < values.length; i++)
    sql += `${dialect === 'postgres' ? `$${i + 1}` : '?'}${texts[i + 1] as string}`;
  return { sql, parameters: values };
}

/** Appends `value` (spliced when SQL text, else one bound value) and then the literal `after`. */
function append(texts: string[], bound: unknown[], value: unknown, after: string): void {
  if (value instanceof SqlText) {
    texts[texts.length - 1] += value.texts[0] as string;
    for (let j = 0; j < value.values.length; j++) {
      bound.push(value.values[j]);
      texts.push(value.texts[j + 1] as string);
    }
    texts[texts.length - 1] += after;
  } else {
    bound.push(value);
    texts.push(after);
  }
}
