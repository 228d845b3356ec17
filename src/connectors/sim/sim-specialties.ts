/**
 * Specialties as codes a scheduling client can ask for. IHE ITI Scheduling binds `$find`'s `specialty` to SNOMED CT
 * clinical specialties (ValueSet `https://profiles.ihe.net/ITI/Scheduling/ValueSet/specialty`: is-a 394658006,
 * standards.md 1.4) and asks for `system|code` tokens; the records system only has a free-text specialty. Known
 * names map to their SNOMED CT concept; every specialty also gets a tenant-scoped code (its folded name), so
 * nothing is left uncoded and the text stays as it was.
 */
import type { CodeableConcept } from '@medplum/fhirtypes';

export const SNOMED_CT = 'http://snomed.info/sct';

/** Folded specialty name → SNOMED CT clinical specialty (394658006 descendants). */
const SNOMED_SPECIALTIES: Readonly<Record<string, { code: string; display: string }>> = {
  'family medicine': { code: '394814009', display: 'General practice (specialty)' },
  'general practice': { code: '394814009', display: 'General practice (specialty)' },
  'internal medicine': { code: '419192003', display: 'Internal medicine' },
  pediatrics: { code: '394537008', display: 'Pediatric specialty' },
  cardiology: { code: '394579002', display: 'Cardiology' },
  dermatology: { code: '394582007', display: 'Dermatology' },
  neurology: { code: '394591006', display: 'Neurology' },
  psychiatry: { code: '394587001', display: 'Psychiatry' },
  'obstetrics and gynecology': { code: '394586005', display: 'Gynecology' },
};

function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim().replace(/\s+/g, ' ');
}

/** The specialty text as a concept: SNOMED CT where known, the tenant's own code always, the text as given. */
export function specialtyConcept(text: string, localSystem: string): CodeableConcept {
  const folded = fold(text);
  const snomed = SNOMED_SPECIALTIES[folded];
  return {
    coding: [
      ...(snomed ? [{ system: SNOMED_CT, code: snomed.code, display: snomed.display }] : []),
      { system: localSystem, code: folded.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') },
    ],
    text,
  };
}
