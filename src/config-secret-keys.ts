/**
 * The keys that encrypt the secrets kept in the store (issue 15 item 5), from the environment or a key file. Part
 * of src/config.ts, kept apart for size: it reads only the `env` it is given.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type Env } from './config-basics.js';
import { parseSecretKey } from './store/secret-box.js';

/**
 * The keys of secrets at rest: `SWITCHBOARD_SECRET_KEY` (the current key) with `SWITCHBOARD_SECRET_KEY_PREVIOUS`
 * (comma-separated previous keys), or the file named by `SWITCHBOARD_SECRET_KEY_FILE` (else `secretKeyFile`): one
 * key a line, the current one first; blank lines and `#` comments ignored.
 */
export function readSecretKeys(fileFromConfig: string | undefined, env: Env): Buffer[] {
  if (env.SWITCHBOARD_SECRET_KEY && env.SWITCHBOARD_SECRET_KEY_FILE) {
    throw new ConfigError(
      'invalid configuration:\n  SWITCHBOARD_SECRET_KEY: give the key or SWITCHBOARD_SECRET_KEY_FILE, not both',
    );
  }
  const parse = (where: string, text: string): Buffer => {
    try {
      return parseSecretKey(text);
    } catch (error) {
      throw new ConfigError(`invalid configuration:\n  ${where}: ${(error as Error).message}`);
    }
  };
  const previous = (env.SWITCHBOARD_SECRET_KEY_PREVIOUS ?? '')
    .split(/[\s,]+/)
    .filter((k) => k !== '')
    .map((k, i) => parse(`SWITCHBOARD_SECRET_KEY_PREVIOUS[${i}]`, k));
  if (env.SWITCHBOARD_SECRET_KEY)
    return [parse('SWITCHBOARD_SECRET_KEY', env.SWITCHBOARD_SECRET_KEY), ...previous];
  const file = env.SWITCHBOARD_SECRET_KEY_FILE || fileFromConfig;
  if (!file) return previous.length > 0 ? missingCurrentKey() : [];
  const where = env.SWITCHBOARD_SECRET_KEY_FILE ? 'SWITCHBOARD_SECRET_KEY_FILE' : 'secretKeyFile';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  ${where}: cannot read ${file}: ${(err as Error).message}`,
    );
  }
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new ConfigError(`invalid configuration:\n  ${where}: ${file} holds no key`);
  return [...lines.map((line, i) => parse(`${where} (${file} key ${i + 1})`, line)), ...previous];
}

function missingCurrentKey(): never {
  throw new ConfigError(
    'invalid configuration:\n  SWITCHBOARD_SECRET_KEY_PREVIOUS: previous keys need a current key ' +
      '(SWITCHBOARD_SECRET_KEY or SWITCHBOARD_SECRET_KEY_FILE)',
  );
}
