/**
 * The syntax of search values (https://hl7.org/fhir/R4/search.html#escaping): a comma separates alternatives
 * (OR), `|` separates a token's system from its code, and a backslash escapes `,`, `|`, `$` and itself.
 */

/** Splits `raw` at unescaped `separator`s, keeping escapes (unescape each part with {@link unescapeValue}). */
export function splitUnescaped(raw: string, separator: ',' | '|', limit = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\\' && i + 1 < raw.length) {
      current += ch + (raw[i + 1] as string);
      i++;
    } else if (ch === separator && parts.length < limit - 1) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes the escaping backslashes of `\,`, `\|`, `\$` and `\\`. */
export function unescapeValue(raw: string): string {
  return raw.replace(/\\([,|$\\])/g, '$1');
}

/** A token search value. */
export interface TokenValue {
  /** undefined: any system (`code`); `''`: no system (`|code`); else `system|code` or `system|`. */
  system: string | undefined;
  /** undefined: any code of the system (`system|`). */
  code: string | undefined;
}

/** Parses `code`, `|code`, `system|code` or `system|`; undefined when nothing is left to match. */
export function parseTokenValue(raw: string): TokenValue | undefined {
  const parts = splitUnescaped(raw, '|', 2);
  if (parts.length === 1) {
    const code = unescapeValue(parts[0] as string);
    return code === '' ? undefined : { system: undefined, code };
  }
  const system = unescapeValue(parts[0] as string);
  const code = unescapeValue(parts[1] as string);
  if (system === '' && code === '') return undefined;
  return { system, code: code === '' ? undefined : code };
}

/** FHIR ids: https://hl7.org/fhir/R4/datatypes.html#id */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_AND_ID = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** A reference search value: a `Type/id` (relative or absolute URL) or a bare id. */
export type ReferenceValue = { type: string; id: string } | { type: undefined; id: string };

/** Parses a reference search value; undefined when it is neither a FHIR id nor ends in `Type/id`. */
export function parseReferenceValue(raw: string): ReferenceValue | undefined {
  const value = unescapeValue(raw);
  if (FHIR_ID.test(value)) return { type: undefined, id: value };
  const m = TYPE_AND_ID.exec(value);
  return m ? { type: m[1] as string, id: m[2] as string } : undefined;
}
