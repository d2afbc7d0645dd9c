import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDevHost, type DevHost, type OutcomeName } from './dev-host.js';
import { RELAY_MODES, type RelayMode } from './local-relay.js';

const USAGE = `Usage: npm start [-- options]

Runs the plugin as Lime would, with a local HTTPS relay and the debug panel on 127.0.0.1.

Options:
  --once              fire a confirmed, a cancelled and a failed outcome, wait until the relay
                      has received and verified all three, then exit (0 on success, 1 otherwise)
  --port N            port of the debug panel (default 4680; 0 picks a free one)
  --relay-port N      port of the local relay (default 8443; a free one when taken)
  --data DIR          the plugin's data folder (default .dev-host-data; --once uses a new
                      temporary folder)
  --timeout SECONDS   with --once, how long to wait for the callbacks (default 30)
  --relay-mode MODE   how the local relay answers at first: ok, fail-once, fail-503, hang
                      or gone (default ok; fail-once with --once, to show a retry)
  --locale TAG        the host locale the panel follows, such as en or zh-CN (default en)
  --verbose           print the plugin's debug log
  --help              print this text
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string', default: '4680' },
      'relay-port': { type: 'string', default: '8443' },
      data: { type: 'string' },
      timeout: { type: 'string', default: '30' },
      'relay-mode': { type: 'string' },
      locale: { type: 'string', default: 'en' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });

  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const pagePort = readPort('--port', values.port);
  const relayPort = readPort('--relay-port', values['relay-port']);
  const relayMode = readRelayMode(values['relay-mode'] ?? (values.once ? 'fail-once' : 'ok'));
  const timeoutMs = readTimeout(values.timeout);
  const temporary =
    values.once && values.data === undefined
      ? await fs.mkdtemp(path.join(os.tmpdir(), 'lime-connect-webhook-'))
      : undefined;
  const dataDir = values.data ?? temporary ?? path.join(root, '.dev-host-data');
  const log = (level: string, ...args: unknown[]): void => {
    if (level !== 'debug' || values.verbose) {
      console.log(
        `${level.padEnd(5)} ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`,
      );
    }
  };

  const host = await startDevHost({
    dataDir,
    registryPath: path.join(root, 'examples', 'registry.json'),
    pagePort: values.once ? 0 : pagePort,
    relayPort: values.once ? 0 : relayPort,
    locale: values.locale,
    log,
  });
  host.relay.mode = relayMode;

  try {
    if (values.once) {
      return await runOnce(host, timeoutMs);
    }

    printWelcome(host, dataDir);
    await waitForSignal();
    return 0;
  } finally {
    await host.close();

    if (temporary !== undefined) {
      await fs.rm(temporary, { recursive: true, force: true });
    }
  }
}

/** Fires the three outcomes and waits until the relay verified every one of them. */
async function runOnce(host: DevHost, timeoutMs: number): Promise<number> {
  const kinds: OutcomeName[] = ['confirmed', 'cancelled', 'failed'];
  const expected: string[] = [];

  for (const kind of kinds) {
    const fired = await host.fire(kind);

    if (!fired.result.queued) {
      console.error(`FAIL ${kind}: not queued (${fired.result.reason}: ${fired.result.message})`);
      return 1;
    }

    console.log(`fired ${kind.padEnd(9)} event ${fired.result.eventId}  ${fired.link}`);
    expected.push(fired.result.eventId);
  }

  const deadline = Date.now() + timeoutMs;

  while (Date.now() < deadline && !expected.every((id) => host.relay.verifiedIds.has(id))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  for (const entry of host.relay.received) {
    const verdict = entry.verified
      ? 'signature verified'
      : `NOT verified (${entry.problem ?? 'unknown'})`;
    const answer =
      entry.answeredWith === 'no answer' ? 'gave no answer' : `answered ${entry.answeredWith}`;
    console.log(`relay received ${entry.eventId}: ${verdict}, ${answer}`);
  }

  const missing = expected.filter((id) => !host.relay.verifiedIds.has(id));

  if (missing.length > 0) {
    console.error(
      `FAIL: the relay did not receive and verify ${missing.length} of ${expected.length} callbacks within ${timeoutMs / 1000} s: ${missing.join(', ')}`,
    );
    return 1;
  }

  console.log(`OK: the relay received and verified all ${expected.length} callbacks`);
  return 0;
}

function printWelcome(host: DevHost, dataDir: string): void {
  console.log('');
  console.log('lime-connect-webhook development host');
  console.log(`  debug panel    ${host.pageUrl}`);
  console.log(`  local relay    ${host.relay.url}`);
  console.log(`  data folder    ${dataDir}`);
  console.log(
    'Open the panel to fire confirmed, cancelled and failed outcomes, make the relay fail, and see every delivery attempt.',
  );
  console.log('Press Ctrl+C to stop.');
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function readRelayMode(value: string): RelayMode {
  if (!RELAY_MODES.includes(value as RelayMode)) {
    throw new Error(`--relay-mode: expected one of ${RELAY_MODES.join(', ')}, received "${value}"`);
  }

  return value as RelayMode;
}

function readTimeout(value: string | undefined): number {
  const seconds = Number(value);

  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new Error(`--timeout: expected seconds from 1 to 3600, received "${value ?? ''}"`);
  }

  return seconds * 1000;
}

function readPort(option: string, value: string | undefined): number {
  const port = Number(value);

  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${option}: expected a port number from 0 to 65535, received "${value ?? ''}"`);
  }

  return port;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
