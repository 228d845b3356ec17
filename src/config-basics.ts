/**
 * What every part of the configuration shares (src/config.ts and its blocks): the error a configuration that cannot
 * be used raises, the environment it is read from, and the shape of ids.
 */
import { z } from 'zod';

/** A configuration that cannot be used; `message` names every offending field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A tenant's, client's or instance's id: lower-case letters, digits and dashes. */
export const configId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');
