/**
 * What Patient and Practitioner share: names (`name`, `family`, `given`), contact points, gender and birth date,
 * and `active` as the status column.
 */
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import { activeStatus, textParam } from './common-parameters.js';
import {
  r4SearchParameter,
  type IndexedTokens,
  type SearchColumns,
  type SearchParamDefinition,
} from './search-parameter.js';
import { humanNameTokens, telecomTokens, textForms, type TelecomParam } from './token-values.js';

type Person = Patient | Practitioner;

/** `name`: any part of any name. */
export function nameParam<T extends Person>(
  definitionId: string,
  documentation: string,
): SearchParamDefinition<T> {
  return textParam('name', definitionId, documentation, (person) =>
    (person.name ?? []).flatMap(humanNameTokens),
  );
}

/** `family`: the family names. */
export function familyParam<T extends Person>(): SearchParamDefinition<T> {
  return textParam('family', 'individual-family', 'The family name', (person) =>
    (person.name ?? []).flatMap((name) => textForms(name.family)),
  );
}

/** `given`: the given names. */
export function givenParam<T extends Person>(): SearchParamDefinition<T> {
  return textParam('given', 'individual-given', 'A given name', (person) =>
    (person.name ?? []).flatMap((name) => (name.given ?? []).flatMap(textForms)),
  );
}

/** `phone`, `email` or `telecom`: contact points, normalised as their tokens were (R4 `individual-…`). */
export function telecomParam<T extends Person>(
  name: TelecomParam,
  documentation: string,
): SearchParamDefinition<T> {
  return {
    name,
    type: 'token',
    definition: r4SearchParameter(`individual-${name}`),
    documentation,
    target: { kind: 'token', param: name, normalise: name },
    tokens: (person) => telecomTokens(person.telecom, name),
  };
}

/** A person's tokens no advertised parameter of theirs reads (sorts use `birthdate`). */
export function unadvertisedPersonTokens<T extends Person>(
  names: ReadonlyArray<'phone' | 'email' | 'telecom' | 'gender' | 'birthdate'>,
): Array<IndexedTokens<T>> {
  return names.map((name) => ({ name, tokens: (person: T) => personTokens(person, name) }));
}

/** A person's `gender` or `birthdate` token, or their contact points under `phone`, `email` or `telecom`. */
export function personTokens(
  person: Person,
  name: TelecomParam | 'gender' | 'birthdate',
): Array<string | undefined> {
  switch (name) {
    case 'gender':
      return [person.gender];
    case 'birthdate':
      return [person.birthDate];
    case 'phone':
    case 'email':
    case 'telecom':
      return telecomTokens(person.telecom, name);
  }
}

/** The search columns of a person: `active` as status. */
export function personColumns(person: Person): Partial<SearchColumns> {
  return { status: activeStatus(person.active) };
}
