/**
 * Literal FHIR references reduced to what the store indexes (DESIGN.md section 3).
 */
import type { Reference } from '@medplum/fhirtypes';

const LITERAL_REFERENCE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * The type and id a relative or absolute literal reference points at (any `_history` suffix ignored).
 *
 * @see DESIGN.md section 3
 */
export function parseReference(reference: Reference | undefined): { type: string; id: string } | undefined {
  const literal = reference?.reference;
  if (!literal) return undefined;
  const match = LITERAL_REFERENCE.exec(literal);
  return match?.[1] && match[2] ? { type: match[1], id: match[2] } : undefined;
}

/** `Type/id` of a literal reference, the form reference search tokens take. @see DESIGN.md section 3 */
export function referenceKey(reference: Reference | undefined): string | undefined {
  const parsed = parseReference(reference);
  return parsed ? `${parsed.type}/${parsed.id}` : undefined;
}
