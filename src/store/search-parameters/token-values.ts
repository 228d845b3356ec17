/**
 * How values are normalised into search tokens, so the facade answers name, identifier, phone, code and reference
 * searches with indexed equality or prefix lookups in either dialect (DESIGN.md section 3). The spec's extractors
 * build their tokens from these; the facade folds search input with {@link foldText} the same way.
 */
import type { Address, CodeableConcept, ContactPoint, HumanName, Identifier } from '@medplum/fhirtypes';

/**
 * Accent- and case-folds text: NFD, combining marks removed, lower-cased. `"José Núñez"` → `"jose nunez"`.
 * Apply the same folding to search input before comparing with stored tokens.
 *
 * @see DESIGN.md section 3
 */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * Folded text with its spaces normalised: the whole-text form of a text token, to compare search input with.
 *
 * @see DESIGN.md section 3
 */
export function foldPhrase(text: string): string {
  return normaliseSpaces(foldText(text));
}

/**
 * The folded text whole, each space-separated part, each word inside a part, and parts and whole with their
 * punctuation and spaces removed, so `O'Brien`, `obrien`, `Núñez-García` and `garcia` all find what people typed.
 */
export function textForms(text: string | undefined): string[] {
  const folded = foldPhrase(text ?? '');
  if (folded === '') return [];
  const forms = [folded];
  for (const part of folded.split(' ')) {
    forms.push(part);
    const words = wordsOf(part);
    forms.push(...words, words.join(''));
  }
  forms.push(wordsOf(folded).join(''));
  return forms;
}

function wordsOf(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '');
}

function normaliseSpaces(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/**
 * `name` tokens of a HumanName: the text forms of every given name, the family name, prefixes, suffixes and the
 * text, and the full folded name (`jose nunez`).
 */
export function humanNameTokens(name: HumanName): string[] {
  const given = name.given ?? [];
  const full = [...given, name.family ?? ''].filter((part) => part.trim() !== '').join(' ');
  return [
    ...given.flatMap(textForms),
    ...textForms(name.family),
    ...[...(name.prefix ?? []), ...(name.suffix ?? [])].flatMap(textForms),
    foldPhrase(full),
    ...textForms(name.text),
  ];
}

/** `system|value` and `value` of each identifier with a value. */
export function identifierTokens(identifiers: Identifier[] | undefined): string[] {
  return (identifiers ?? []).flatMap((identifier) => {
    const value = identifier.value?.trim();
    if (!value) return [];
    return identifier.system ? [`${identifier.system}|${value}`, value] : [value];
  });
}

/** `system|code` and `code` of every coding of the concepts. */
export function codeTokens(concepts: CodeableConcept[] | CodeableConcept | undefined): string[] {
  const list = concepts === undefined ? [] : Array.isArray(concepts) ? concepts : [concepts];
  return list.flatMap((concept) =>
    (concept.coding ?? []).flatMap((coding) => {
      if (!coding.code) return [];
      return coding.system ? [`${coding.system}|${coding.code}`, coding.code] : [coding.code];
    }),
  );
}

/** The contact points a telecom token parameter indexes: `phone`, `email` or `telecom` (any of them). */
export type TelecomParam = 'phone' | 'email' | 'telecom';

/**
 * Contact-point tokens: phone numbers (and sms) by their digits under `phone`; email addresses lower-cased under
 * `email`; every kind under `telecom` (fax and pager numbers by their digits, urls as given).
 */
export function telecomTokens(telecom: ContactPoint[] | undefined, param: TelecomParam): string[] {
  return (telecom ?? []).flatMap((point) => {
    const value = point.value?.trim();
    if (!value) return [];
    switch (point.system) {
      case 'phone':
      case 'sms':
        return param === 'email' ? [] : phoneForms(value);
      case 'fax':
      case 'pager':
        return param === 'telecom' ? phoneForms(value) : [];
      case 'email':
        return param === 'phone' ? [] : [value.toLowerCase()];
      case 'url':
      case 'other':
      case undefined:
        return param === 'telecom' ? [value] : [];
    }
  });
}

/** Digits only; a North American number with its country code is also kept without it, as people dial it. */
function phoneForms(value: string): string[] {
  const digits = value.replace(/\D/g, '');
  if (digits === '') return [];
  if (digits.length === 11 && digits.startsWith('1')) return [digits, digits.slice(1)];
  return [digits];
}

/** Every part of every address as text forms (R4 `address` matches any part of it). */
export function addressTokens(addresses: Address[] | Address | undefined): string[] {
  const list = addresses === undefined ? [] : Array.isArray(addresses) ? addresses : [addresses];
  return list.flatMap((a) =>
    [...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text].flatMap(textForms),
  );
}
