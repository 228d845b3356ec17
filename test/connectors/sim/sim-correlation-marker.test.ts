/**
 * The correlation marker as the connector port exposes it (DESIGN.md section 4, step 4): the sim connector formats
 * the marker booking writes to `externalRef` and finds it again on the appointment its mapping produced, so booking
 * never needs to know the format.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/connectors/connector.js';
import { createConnector } from '../../../src/connectors/create-connector.js';
import { mapAppointment } from '../../../src/connectors/sim/sim-fhir-mapping.js';
import { parseConfig } from '../../../src/config.js';
import { TINY_FIRM, TINY_PASSWORD, TINY_USERNAME } from '../../support/tiny-firm.js';
import { fixtureContext, simAppointment } from './sim-mapping-fixtures.js';

const SAGA_ID = '7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a37';

/** A sim connector through the factory; it is never called over the network here. */
function simConnector(): Connector {
  const [tenant] = parseConfig({
    tenants: [
      {
        id: TINY_FIRM,
        connector: {
          kind: 'sim',
          baseUrl: 'http://127.0.0.1:9',
          firm: TINY_FIRM,
          username: TINY_USERNAME,
          password: TINY_PASSWORD,
        },
      },
    ],
  }).tenants;
  if (!tenant) throw new Error('no tenant parsed');
  return createConnector(tenant);
}

describe('the sim connector’s correlation marker', () => {
  let connector: Connector | undefined;
  afterEach(async () => {
    await connector?.close();
    connector = undefined;
  });

  it('finds on a mapped appointment the marker it formatted for the saga', () => {
    connector = simConnector();
    const marker = connector.correlationMarker(SAGA_ID);
    expect(marker).toBe(`switchboard:${SAGA_ID}`);
    const mapped = mapAppointment(simAppointment({ externalRef: marker }), fixtureContext());
    expect(connector.markerOf(mapped)).toBe(marker);
  });

  it('finds no marker on an appointment Switchboard did not book', () => {
    connector = simConnector();
    for (const externalRef of [null, 'PORTAL-88213', 'Switchboard: call back']) {
      const mapped = mapAppointment(simAppointment({ externalRef }), fixtureContext());
      expect(connector.markerOf(mapped), String(externalRef)).toBeUndefined();
    }
  });

  it('refuses a saga id that cannot be stored as a marker', () => {
    connector = simConnector();
    expect(() => connector?.correlationMarker('no spaces allowed')).toThrow(RangeError);
  });
});
