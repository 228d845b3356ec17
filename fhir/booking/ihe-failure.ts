/**
 * How `$hold` and `$book` answer a failure (IHE ITI-116 and ITI-117; standards.md 1.4): "An unsuccessful $book
 * operation SHALL return only an OperationOutcome resource within the Bundle", and for a hold "where the
 * Appointment is not available to be held, the server shall return an OperationOutcome with at least one issue
 * with severity of fatal and code of not-found". So a failed operation answers a searchset Bundle (`total: 0`)
 * whose only entry is the OperationOutcome (`search.mode: outcome`), with the failure's own HTTP status and
 * headers; an appointment that is no longer free (`slot-taken`) leads with a `fatal` `not-found` issue, keeping
 * Switchboard's precise code in `details.coding` and the alternative Slots. A `202 booking-pending` is not a
 * failure and stays as it is.
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { FhirError, SWITCHBOARD_ISSUE_SYSTEM } from '../operation-outcome.js';

/** Runs an IHE operation, answering its failures in the ITI-116/117 shape. */
export async function withIheFailures<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof FhirError) || err.status < 400) throw err;
    const outcome = unavailableAsNotFound(err.outcome);
    throw new FhirError(err.status, outcome, err.headers, failureBundle(outcome));
  }
}

/** The Bundle of a failed `$hold` / `$book`: only the OperationOutcome. */
export function failureBundle(outcome: OperationOutcome): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    total: 0,
    entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: outcome, search: { mode: 'outcome' } }],
  };
}

function unavailableAsNotFound(outcome: OperationOutcome): OperationOutcome {
  const [first, ...rest] = outcome.issue ?? [];
  const taken = first?.details?.coding?.some(
    (c) => c.system === SWITCHBOARD_ISSUE_SYSTEM && c.code === 'slot-taken',
  );
  if (!first || !taken) return outcome;
  return { ...outcome, issue: [{ ...first, severity: 'fatal', code: 'not-found' }, ...rest] };
}
