/**
 * A port already taken, said as the setting to change (issue 15 item 6) instead of a stack trace:
 * `port 8080 is already in use: set PORT to a free port (e.g. PORT=8081 npm start)`.
 */

/** True for a listen error because the address is taken. */
export function isPortInUse(err: unknown): err is Error & { port?: number } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/**
 * The message for a port-in-use error: which setting names the port (`settings`: port → setting, e.g. 8080 →
 * `PORT`), and an example with the next port.
 */
export function portInUseMessage(
  err: Error & { port?: number },
  settings: ReadonlyMap<number, string>,
): string {
  const port = err.port;
  const setting = port === undefined ? undefined : settings.get(port);
  if (port === undefined || setting === undefined)
    return `a port is already in use (${err.message}): another program (or another Switchboard) listens there; stop it or choose other ports (${[...new Set(settings.values())].join(', ')})`;
  const example = /^[A-Z_]+$/.test(setting) ? ` (e.g. ${setting}=${port + 1} npm start)` : '';
  return `port ${port} is already in use: another program (or another Switchboard) listens there. Stop it, or set ${setting} to a free port${example}.`;
}
