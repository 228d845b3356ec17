/**
 * The firm a `/firm/{firm}/…` request addresses, resolved once by the gate (`sim-firm-gate.ts`) and carried on
 * `res.locals` to the bearer guard and handlers.
 */
import type { Response } from 'express';
import type { SimFirmState } from './sim-firm-state.js';

const KEY = 'simFirm';

/** Remembers the resolved firm for the rest of this request. */
export function attachFirm(res: Response, firm: SimFirmState): void {
  res.locals[KEY] = firm;
}

/** The firm the gate resolved; a programming error if the gate did not run. */
export function firmOf(res: Response): SimFirmState {
  const firm: unknown = res.locals[KEY];
  if (!firm) throw new Error('firm not resolved: the firm gate must run first');
  return firm as SimFirmState;
}
