/**
 * How the simulated records system matches what a caller typed against stored patient details
 * (DESIGN.md section 2): names case- and accent-insensitively by prefix, phone numbers by their digits.
 */

/** Lower-case and strip diacritics, so `José` and `jose`, `Zoë` and `ZOE` compare equal. */
export function foldForMatch(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLocaleLowerCase('en-US');
}

/** True when `candidate` starts with `prefix`, ignoring case and accents. */
export function matchesNamePrefix(candidate: string, prefix: string): boolean {
  return foldForMatch(candidate).startsWith(foldForMatch(prefix));
}

/**
 * The digits of a phone number, without a leading US country code, so `(555) 010-1234`, `555.010.1234` and
 * `+1 555 010 1234` are the same number.
 */
export function phoneDigits(phone: string): string {
  const digits = phone.replace(/\D+/g, '');
  return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
}
