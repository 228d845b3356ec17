/**
 * PractitionerRole: not served by the facade, but indexed by the practitioner and location it links, so the store
 * can find where a practitioner works.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import { firstIdOf } from './column-values.js';
import { activeStatus } from './common-parameters.js';
import type { ResourceSearchSpec } from './search-parameter.js';

export const practitionerRoleSearch: ResourceSearchSpec<PractitionerRole> = {
  resourceType: 'PractitionerRole',
  parameters: [],
  indexedTokens: [],
  columns: (role) => ({
    status: activeStatus(role.active),
    ref_practitioner: firstIdOf([role.practitioner], 'Practitioner'),
    ref_location: firstIdOf(role.location, 'Location'),
  }),
};
