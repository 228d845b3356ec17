/**
 * The facade speaks FHIR JSON only (https://hl7.org/fhir/R4/http.html#mime-type): `application/fhir+json` by
 * default, `application/json` to clients that ask for exactly that, `_format=json` (or either MIME type)
 * accepted; anything else is a 406 with an OperationOutcome.
 */
import { FhirError } from './operation-outcome.js';

export const FHIR_JSON = 'application/fhir+json';
const JSON_TYPE = 'application/json';
type JsonType = typeof FHIR_JSON | typeof JSON_TYPE;

const FORMAT_ALIASES: Readonly<Record<string, JsonType>> = {
  json: FHIR_JSON,
  [FHIR_JSON]: FHIR_JSON,
  'application/json+fhir': FHIR_JSON,
  [JSON_TYPE]: JSON_TYPE,
};

/** The media type to answer with; a 406 FhirError when the client accepts no JSON. */
export function negotiateFormat(format: string | null, accept: string | undefined): JsonType {
  if (format !== null) {
    const type = FORMAT_ALIASES[format.split(';')[0]?.trim().toLowerCase() ?? ''];
    if (!type) throw notAcceptable(`_format=${format} is not supported; this server speaks FHIR JSON only`);
    return type;
  }
  if (!accept) return FHIR_JSON;
  let best: { type: JsonType; q: number } | undefined;
  for (const range of accept.split(',')) {
    const [mediaRange = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const type: JsonType | undefined =
      mediaRange === JSON_TYPE
        ? JSON_TYPE
        : [FHIR_JSON, 'application/json+fhir', 'application/*', '*/*'].includes(mediaRange)
          ? FHIR_JSON
          : undefined;
    if (type && (!best || q > best.q)) best = { type, q };
  }
  if (!best) throw notAcceptable(`cannot answer in any of ${accept}; this server speaks FHIR JSON only`);
  return best.type;
}

function notAcceptable(text: string): FhirError {
  return FhirError.of(406, 'not-supported', text, { expression: '_format' });
}
