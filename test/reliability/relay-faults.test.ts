import { promises as fs } from 'node:fs';
import type dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptEntry, OutboxEvent } from '../../src/outbox/outbox.js';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import { startFaultRelay, type FaultRelay, type RelayFault } from '../helpers/fault-relay.js';
import {
  exposedState,
  findSecret,
  FULL_API_KEY,
  loopbackConfig,
  makeDataDir,
  recordingHost,
  TEST_SECRET,
  waitFor,
} from '../helpers/plugin-harness.js';

const TIMEOUT_MS = 1000;

interface FaultCase {
  name: string;
  fault: (relay: FaultRelay) => RelayFault;
  errorClass: string;
  classification: 'retry' | 'permanent' | 'gone' | 'redirect';
  httpStatus?: number;
  /** Delay the attempt asked for with Retry-After, as a [min, max] range in milliseconds. */
  retryAfterMs?: [number, number];
}

const cases: FaultCase[] = [
  {
    name: '500',
    fault: status(500),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 500,
  },
  {
    name: '408',
    fault: status(408),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 408,
  },
  {
    name: '425',
    fault: status(425),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 425,
  },
  {
    name: '503 with Retry-After in seconds',
    fault: status(503, { retryAfter: '1' }),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 503,
    retryAfterMs: [1000, 1000],
  },
  {
    name: '429 with Retry-After as an HTTP date',
    fault: () => ({
      kind: 'status',
      status: 429,
      retryAfter: new Date(Date.now() + 3000).toUTCString(),
    }),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 429,
    retryAfterMs: [1000, 3000],
  },
  {
    name: '503 with a garbage Retry-After',
    fault: status(503, { retryAfter: 'soon, maybe' }),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 503,
  },
  {
    name: '400',
    fault: status(400),
    errorClass: 'http_status',
    classification: 'permanent',
    httpStatus: 400,
  },
  {
    name: '404',
    fault: status(404),
    errorClass: 'http_status',
    classification: 'permanent',
    httpStatus: 404,
  },
  {
    name: '410',
    fault: status(410),
    errorClass: 'http_status',
    classification: 'gone',
    httpStatus: 410,
  },
  {
    name: 'redirect to another host',
    fault: status(302, { location: 'https://relay.elsewhere.test/hook?token=abc' }),
    errorClass: 'redirect',
    classification: 'redirect',
    httpStatus: 302,
  },
  {
    name: 'redirect to http:',
    fault: (relay) => ({
      kind: 'status',
      status: 307,
      location: relay.url.replace('https:', 'http:'),
    }),
    errorClass: 'redirect',
    classification: 'redirect',
    httpStatus: 307,
  },
  {
    name: 'hang before headers',
    fault: () => ({ kind: 'hang' }),
    errorClass: 'timeout',
    classification: 'retry',
  },
  {
    name: 'stalled body',
    fault: () => ({ kind: 'stall-body' }),
    errorClass: 'timeout',
    classification: 'retry',
    httpStatus: 200,
  },
  {
    name: 'connection reset',
    fault: () => ({ kind: 'reset' }),
    errorClass: 'connection_reset',
    classification: 'retry',
  },
  {
    name: 'endless body with 503',
    fault: () => ({ kind: 'endless-body', status: 503 }),
    errorClass: 'http_status',
    classification: 'retry',
    httpStatus: 503,
  },
  {
    name: 'certificate from another CA',
    fault: certificate('other-ca'),
    errorClass: 'tls',
    classification: 'retry',
  },
  {
    name: 'expired certificate',
    fault: certificate('expired'),
    errorClass: 'tls',
    classification: 'retry',
  },
  {
    name: 'certificate for another host name',
    fault: certificate('other-host'),
    errorClass: 'tls',
    classification: 'retry',
  },
];

function status(code: number, extra: { retryAfter?: string; location?: string } = {}) {
  return (): RelayFault => ({ kind: 'status', status: code, ...extra });
}

function certificate(kind: 'other-ca' | 'expired' | 'other-host') {
  return (): RelayFault => ({ kind: 'certificate', certificate: kind });
}

let relay: FaultRelay;
const table: string[] = [];

beforeAll(async () => {
  relay = await startFaultRelay();
});

afterAll(async () => {
  await relay.close();
  console.log(`relay faults through activate():\n${table.join('\n')}`);
});

/** Any DNS lookup fails the test: the relay is an IP literal, so only a followed redirect looks up a name. */
const lookups: string[] = [];
const refuseLookup = ((hostname: string, _options: unknown, callback: (error: Error) => void) => {
  lookups.push(hostname);
  callback(new Error(`unexpected DNS lookup of ${hostname}`));
}) as unknown as typeof dns.lookup;

async function withPlugin(run: (plugin: ConnectWebhookPlugin) => Promise<void>): Promise<void> {
  const dataDir = await makeDataDir('relay-faults');
  const config = loopbackConfig(relay.url, relay.ca, {
    timeoutMs: TIMEOUT_MS,
    secret: TEST_SECRET,
  });
  (config.retry as Record<string, number>).maxDelayMs = 5000;
  const host = recordingHost(dataDir, config);
  const plugin = await activate(host, { resolve: refuseLookup });

  try {
    await run(plugin);
  } finally {
    const exposed = exposedState(plugin);
    await plugin.deactivate();
    const texts = { ...exposed, log: host.logLines.join('\n') };
    expect(await findSecret(FULL_API_KEY, dataDir, texts)).toEqual([]);
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function queueOne(plugin: ConnectWebhookPlugin): Promise<string> {
  const result = await plugin.hooks['connect:confirmed']({
    relay: 'acme',
    key: FULL_API_KEY,
    ref: 'faults',
  });

  if (!result.queued) {
    throw new Error(`outcome not queued: ${result.message}`);
  }

  return result.eventId;
}

function eventOf(plugin: ConnectWebhookPlugin, id: string): OutboxEvent {
  const event = plugin.runtime!.outbox.get(id);

  if (event === undefined) {
    throw new Error(`event ${id} is not in the outbox`);
  }

  return event;
}

describe('relay faults', () => {
  for (const testCase of cases) {
    it(`records and recovers from: ${testCase.name}`, async () => {
      await relay.setFault(testCase.fault(relay));
      const handshakesBefore = relay.handshakes;
      const requestsBefore = relay.requests.length;

      await withPlugin(async (plugin) => {
        const id = await queueOne(plugin);
        const first = await waitFor(
          () => eventOf(plugin, id).attempts[0],
          'the first attempt',
          TIMEOUT_MS + 5000,
        );
        const afterFirst = eventOf(plugin, id);
        const firstEnd = first.startedAt + first.durationMs;

        expect(first.errorClass).toBe(testCase.errorClass);
        expect(first.classification).toBe(testCase.classification);
        expect(first.httpStatus).toBe(testCase.httpStatus);
        expect(first.excerpt?.length ?? 0).toBeLessThanOrEqual(4096);

        if (testCase.name.startsWith('certificate') || testCase.name.startsWith('expired')) {
          // Certificate failures are never bypassed: no request reached the relay.
          expect(relay.handshakes).toBe(handshakesBefore);
          expect(relay.requests.length).toBe(requestsBefore);
        }

        if (testCase.retryAfterMs !== undefined) {
          const [min, max] = testCase.retryAfterMs;
          expect(first.retryAfterMs).toBeGreaterThanOrEqual(min);
          expect(first.retryAfterMs).toBeLessThanOrEqual(max);
          expect(afterFirst.nextAt - firstEnd).toBeGreaterThanOrEqual(min - 50);
        }

        let retriedAfter = '';

        if (testCase.classification === 'retry') {
          expect(afterFirst.state).toBe('pending');
          await relay.setFault({ kind: 'ok' });
          const delivered = await waitFor(
            () => eventOf(plugin, id).state === 'delivered' && eventOf(plugin, id),
            'delivery after recovery',
            TIMEOUT_MS + 8000,
          );
          const next = delivered.attempts[1] as AttemptEntry;
          const waited = next.startedAt - firstEnd;
          retriedAfter = `retried after ${waited} ms`;

          if (testCase.retryAfterMs !== undefined) {
            expect(waited).toBeGreaterThanOrEqual(testCase.retryAfterMs[0] - 50);
          }
        } else {
          // Permanent: dead at once, not retried, and replayed by hand once the relay is fixed.
          expect(afterFirst.state).toBe('dead');
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(eventOf(plugin, id).attempts).toHaveLength(1);
          retriedAfter = 'not retried; delivered by a replay';
          await relay.setFault({ kind: 'ok' });

          if (testCase.classification === 'gone') {
            expect(plugin.runtime!.settings.get().relays.acme?.paused).toBe(true);
            plugin.runtime!.resumeRelay('acme');
          }

          if (testCase.classification === 'redirect') {
            expect(first.location).toBeDefined();
            expect(first.location).not.toContain('token');
          }

          expect(await plugin.runtime!.replay(id)).toBe(true);
          await waitFor(() => eventOf(plugin, id).state === 'delivered', 'delivery after replay');
        }

        expect(relay.deliveredIds()).toContain(id);
        table.push(
          `| ${testCase.name} | ${first.errorClass} | ${first.classification} | ${retriedAfter} |`,
        );
      });

      expect(lookups).toEqual([]);
    });
  }

  it('delivers despite an endless 200 body, reading at most 4096 bytes', async () => {
    await relay.setFault({ kind: 'endless-body', status: 200 });

    await withPlugin(async (plugin) => {
      const started = Date.now();
      const id = await queueOne(plugin);
      await waitFor(() => eventOf(plugin, id).state === 'delivered', 'delivery');
      const [attempt] = eventOf(plugin, id).attempts;
      expect(attempt?.excerpt?.length).toBeLessThanOrEqual(4096);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      table.push(`| endless body with 200 | (none) | delivered | excerpt cut at 4096 bytes |`);
    });
  });

  it('retries a refused connection until the relay listens', async () => {
    const closed = await startFaultRelay();
    const port = closed.port;
    await closed.close();
    const dataDir = await makeDataDir('relay-refused');
    const url = `https://127.0.0.1:${port}/hook`;
    const plugin = await activate(recordingHost(dataDir, loopbackConfig(url, relay.ca)));

    try {
      const id = await queueOne(plugin);
      const first = await waitFor(() => eventOf(plugin, id).attempts[0], 'the first attempt');
      expect(first.errorClass).toBe('connection_refused');
      expect(first.classification).toBe('retry');
      expect(eventOf(plugin, id).state).toBe('pending');
      table.push(`| connection refused | connection_refused | retry | with backoff |`);
    } finally {
      await plugin.deactivate();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
