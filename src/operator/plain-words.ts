/**
 * The console's words for a practice manager (issue 15): what a failure means and what to do about it, instead of
 * `UpstreamError: records system circuit open after repeated failures`. The technical text stays one click away.
 */
import type { UpstreamCall } from '../connectors/upstream-observer.js';

/** What an upstream failure kind means, in a sentence. */
export function upstreamFailureInWords(outcome: UpstreamCall['outcome']): string {
  switch (outcome) {
    case 'ok':
      return 'The records system answered normally.';
    case 'unavailable':
      return 'The records system is not answering: it may be down, restarting or unreachable from here. Switchboard keeps retrying by itself; bookings are refused as "system unavailable" meanwhile.';
    case 'timeout':
      return 'The records system is answering too slowly: calls ran out of time. Bookings may be answered "being confirmed" and finished later.';
    case 'rate-limited':
      return 'The records system asked Switchboard to slow down (too many calls per minute). Switchboard waits as told.';
    case 'unauthorized':
      return "The records system refused Switchboard's login. Check the user name and password configured for this practice.";
    case 'rejected':
      return 'The records system refused one request as invalid. Usually one record is the cause; the technical detail names the call.';
    case 'not-found':
      return 'The records system could not find a record Switchboard asked for (it may have been deleted there).';
    case 'time-taken':
      return 'The records system refused a booking because its time was no longer free (someone booked it first). Nothing was written; the caller was offered other times.';
  }
}

/** The sync streams in a practice manager's words. */
export const STREAM_WORDS: Readonly<Record<string, string>> = {
  'window-hot': "Today's schedule and the next two weeks",
  'window-warm': 'The rest of the booking horizon',
  patients: 'Patients',
  reference: 'Practitioners, locations, visit types and working hours',
};

/** Booking refusal codes (DESIGN.md section 4) in words. */
export const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  'slot-taken': 'the time was already taken',
  'outside-hours': 'outside working hours',
  'provider-unavailable': 'practitioner away or practice closed',
  'ehr-unavailable': 'records system unavailable',
  'rate-limited': 'records system asked to slow down',
  busy: 'too many bookings at once',
  'ehr-rejected': 'records system refused the booking',
  'not-found': 'unknown patient, practitioner or visit type',
  'version-conflict': 'the appointment had changed meanwhile',
  'invalid-state': 'the appointment could not be changed',
};

/** A refusal code in words (the code itself when it has none). */
export const refusalInWords = (code: string): string => REFUSAL_WORDS[code] ?? code.replaceAll('-', ' ');

/** What a webhook receiver's answer means, and what to do. */
export function webhookFailureAdvice(status: number | null): string {
  if (status === null)
    return 'The receiving system could not be reached (no answer): check that it is running and reachable from Switchboard.';
  if (status === 401 || status === 403)
    return "The receiving system refused the notifications as unauthorized: check that it has the subscription's current signing secret (after a rotation, restart the receiver with the new one).";
  if (status === 404 || status === 410)
    return "The receiving system does not know the address notifications are sent to: check the subscription's endpoint.";
  if (status === 429) return 'The receiving system asked to slow down; Switchboard waits as told.';
  if (status >= 500) return 'The receiving system is failing with an error of its own: ask whoever runs it.';
  return `The receiving system answered ${status}: it did not accept the notifications.`;
}

/** A duration in words: `45 s`, `12 min`, `3 h`, `2 days`. */
export function durationInWords(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** `3 min ago`, or `never`. */
export function agoInWords(iso: string | null, now: Date): string {
  return iso === null ? 'never' : `${durationInWords(now.getTime() - Date.parse(iso))} ago`;
}
