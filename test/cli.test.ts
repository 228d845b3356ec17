/**
 * The command line as a new user meets it (issue 15 item 6): `--help` prints the usage and exits 0, a port in use
 * names the setting to change instead of printing a stack trace, and the example receiver takes its secrets from
 * the environment. Real processes.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

const TSX = 'node_modules/.bin/tsx';

/** Runs `switchboard …` until it exits, or until `until` matches its output (then stops it). */
function run(
  args: string[],
  env: Record<string, string> = {},
  until?: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/main.ts', ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (until && until.test(stdout + stderr)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the switchboard command line', () => {
  let busy: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
    busy = undefined;
  });

  it('prints the usage with exit 0 for --help, before or after the command', async () => {
    for (const args of [['--help'], ['demo', '-h']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^usage: switchboard <command>/);
      expect(result.stdout).toContain('SWITCHBOARD_DEMO_OPERATOR_TOKEN');
    }
  }, 120_000);

  it('refuses an unknown option with the usage and exit 2, without a stack trace', async () => {
    const result = await run(['demo', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^switchboard: Unknown option '--bogus'/);
    expect(result.stderr).toContain('usage: switchboard');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('names SIM_PORT when the simulator port is taken, without a stack trace', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy?.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    const result = await run(['sim'], { SIM_PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `switchboard: port ${port} is already in use: another program (or another Switchboard) listens there. Stop it, or set SIM_PORT to a free port (e.g. SIM_PORT=${port + 1} npm start).\n`,
    );
  }, 90_000);

  it('runs the example receiver with its secrets from SWITCHBOARD_WEBHOOK_SECRETS', async () => {
    const result = await run(
      ['receive-webhooks', '--port', '0'],
      {
        SWITCHBOARD_WEBHOOK_SECRETS:
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
      },
      /listening on/,
    );
    expect(result.stdout).toMatch(/example webhook receiver listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(result.stderr).toBe('');
  }, 90_000);
});
