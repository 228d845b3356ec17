/**
 * Parsing of the store location (`DATABASE_URL`, DESIGN.md section 2): a file path, a `sqlite:` URL or a
 * `postgres://` / `postgresql://` URL.
 */

/** Where a store lives, after parsing. */
export type StoreLocation =
  | { dialect: 'sqlite'; /** a file path, or `:memory:` */ filename: string }
  | { dialect: 'postgres'; connectionString: string };

/**
 * Parses a store URL.
 *
 * - `postgres://…` / `postgresql://…` → PostgreSQL;
 * - `sqlite::memory:` → an in-memory SQLite database;
 * - `sqlite:///abs/path.sqlite` or `sqlite://./rel.sqlite` or `sqlite:./rel.sqlite` → that file;
 * - anything else is taken as a file path (`./data/switchboard.sqlite`).
 *
 * @see DESIGN.md sections 2 and 3
 */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (trimmed === '') throw new RangeError('store URL is empty');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { dialect: 'postgres', connectionString: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    let rest = trimmed.slice('sqlite:'.length);
    // `sqlite://x` is the URL-ish spelling of `sqlite:x`; `sqlite:///abs` keeps its leading slash.
    if (rest.startsWith('//')) rest = rest.slice(2);
    if (rest === '') throw new RangeError(`store URL names no file: ${url}`);
    return { dialect: 'sqlite', filename: rest };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new RangeError(`unsupported store URL scheme: ${trimmed.split(':')[0] ?? ''}`);
  }
  return { dialect: 'sqlite', filename: trimmed };
}
