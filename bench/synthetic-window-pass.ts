/**
 * The sync-diff benchmark's production path (issue 16 item 5): the sync engine's own window pass (`runPass`, as a
 * tenant's hot window) over the synthetic practice, reading it through the connector port page by page as the sim
 * connector lists it (pages of 200, each built when the pass asks for the next, with the sim connector's record
 * builder), so the pass holds one page as production does.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { parseConfig } from '../src/config.js';
import type { Connector, UpstreamRecord, WindowQuery } from '../src/connectors/connector.js';
import { correlationMarkerOf } from '../src/connectors/sim/sim-fhir-context.js';
import type { Store } from '../src/store/database.js';
import { wallTimeToInstant } from '../src/wall-time.js';
import { runPass, type PassResult } from '../sync/sync-streams.js';
import {
  SYNTHETIC_TENANT,
  SYNTHETIC_WINDOW,
  SYNTHETIC_ZONE,
  syntheticAppointmentPages,
  type SyntheticOptions,
} from './synthetic-appointments.js';

/** The sim connector's page size (sim-client.ts). */
const SIM_PAGE_SIZE = 200;

/**
 * The part of the connector port a window pass calls, over the synthetic practice: its appointments in pages as
 * the records system lists them, no blocks, nothing vanished.
 */
function syntheticConnector(options: SyntheticOptions): Connector {
  const window: Pick<
    Connector,
    'timezone' | 'appointmentPagesInWindow' | 'blocksInWindow' | 'readAppointment' | 'markerOf'
  > = {
    timezone: SYNTHETIC_ZONE,
    appointmentPagesInWindow: (query: WindowQuery): AsyncIterable<UpstreamRecord<Appointment>[]> => {
      const whole =
        query.from.getTime() <=
        wallTimeToInstant(`${SYNTHETIC_WINDOW.fromDate}T00:00`, SYNTHETIC_ZONE).getTime();
      if (!whole) throw new Error('the synthetic window pass reads the whole synthetic window');
      return syntheticAppointmentPages(options, SIM_PAGE_SIZE);
    },
    blocksInWindow: async () => [],
    readAppointment: async () => null,
    markerOf: correlationMarkerOf,
  };
  // A window pass calls nothing else of the port.
  return window as Connector;
}

/** One hot-window pass of the sync engine whose window is the synthetic year. */
export async function syntheticWindowPass(store: Store, options: SyntheticOptions): Promise<PassResult> {
  const [tenant] = parseConfig({
    tenants: [
      {
        id: SYNTHETIC_TENANT,
        connector: {
          kind: 'sim',
          baseUrl: 'http://127.0.0.1:9',
          firm: 'bench',
          username: 'u',
          password: 'p',
        },
        timezone: SYNTHETIC_ZONE,
        sync: { hotWindowDays: 365, horizonDays: 365 },
        booking: { horizonDays: 365 },
      },
    ],
  }).tenants;
  if (!tenant) throw new Error('no tenant parsed');
  return runPass('window-hot', {
    store,
    tenant,
    connector: syntheticConnector(options),
    now: wallTimeToInstant(`${SYNTHETIC_WINDOW.fromDate}T12:00`, SYNTHETIC_ZONE),
    signal: new AbortController().signal,
    cursor: null,
    baseline: false,
  });
}
