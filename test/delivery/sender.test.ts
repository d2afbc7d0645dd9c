import type dns from 'node:dns';
import type { LookupOptions } from 'node:dns';
import { once } from 'node:events';
import net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSender } from '../../src/delivery/sender.js';
import type { Sender, SenderOptions } from '../../src/delivery/sender.js';
import { startTestRelay } from '../helpers/https-relay.js';
import type { TestRelay } from '../helpers/https-relay.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const USER_AGENT = 'Lime/1.2.3 lime-connect-webhook/0.1.0';
const BODY = '{"event":"connect","status":"success","relay_id":"acme","ref":"春节"}';

let relay: TestRelay;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  relay = await startTestRelay();
  cleanups.push(() => relay.close());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

function makeSender(overrides: Partial<SenderOptions> = {}): Sender {
  const sender = createSender({
    allowPrivateAddresses: true,
    extraCaCertificates: [relay.ca],
    timeoutMs: 5000,
    userAgent: USER_AGENT,
    ...overrides,
  });
  cleanups.push(() => sender.close());
  return sender;
}

function send(
  sender: Sender,
  url = relay.url,
  extra: { secret?: string; signal?: AbortSignal } = {},
) {
  const request = {
    url,
    body: BODY,
    eventId: '01950000-0000-7000-8000-000000000001',
    ...(extra.secret === undefined ? {} : { secret: extra.secret }),
  };
  return sender.send(request, extra.signal);
}

/** Creates a resolver that maps every host name to fixed loopback addresses and records them. */
function loopbackResolver(addresses: string[]) {
  const hostnames: string[] = [];
  const resolve = ((hostname: string, _options: LookupOptions, callback: Function) => {
    hostnames.push(hostname);
    const answers = addresses.map((address) => ({ address, family: net.isIP(address) }));
    process.nextTick(() => callback(null, answers));
  }) as unknown as typeof dns.lookup;

  return { resolve, hostnames };
}

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('sender request', () => {
  it('sends the headers and the exact body bytes', async () => {
    const sender = makeSender();
    const now = Date.UTC(2026, 1, 16, 10, 0, 0, 900);

    const result = await sender.send({
      url: `${relay.url}?channel=a`,
      body: BODY,
      eventId: 'evt-1',
      now: () => now,
    });

    expect(result.classification).toBe('delivered');
    expect(result.httpStatus).toBe(200);
    expect(result.errorClass).toBeUndefined();
    expect(result.responseExcerpt).toBe('{"ok":true}');

    const [received] = relay.requests;
    expect(received?.method).toBe('POST');
    expect(received?.path).toBe('/hook?channel=a');
    expect(received?.body.equals(Buffer.from(BODY, 'utf8'))).toBe(true);
    expect(received?.headers['content-type']).toBe('application/json');
    expect(received?.headers['user-agent']).toBe(USER_AGENT);
    expect(received?.headers['webhook-id']).toBe('evt-1');
    expect(received?.headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(received?.headers['webhook-signature']).toBeUndefined();
    expect(received?.headers['accept-encoding']).toBeUndefined();
  });

  it('signs so that standardwebhooks verifies', async () => {
    const sender = makeSender();

    const result = await send(sender, relay.url, { secret: SECRET });

    expect(result.classification).toBe('delivered');
    const [received] = relay.requests;
    const headers = {
      'webhook-id': String(received?.headers['webhook-id']),
      'webhook-timestamp': String(received?.headers['webhook-timestamp']),
      'webhook-signature': String(received?.headers['webhook-signature']),
    };
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(received?.body ?? Buffer.alloc(0), headers)).toEqual(
      JSON.parse(BODY),
    );
    expect(() => new Webhook(SECRET).verify(`${BODY} `, headers)).toThrow();
  });

  it('reports a start time and duration', async () => {
    const sender = makeSender();
    const before = Date.now();

    const result = await send(sender);

    expect(result.startedAt).toBeGreaterThanOrEqual(before);
    expect(result.startedAt).toBeLessThanOrEqual(Date.now());
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('delivers to a relay on [::1]', async () => {
    const v6 = await startTestRelay({ host: '::1' });
    cleanups.push(() => v6.close());
    const sender = makeSender();

    const result = await send(sender, v6.url);

    expect(v6.url).toMatch(/^https:\/\/\[::1\]:\d+\/hook$/);
    expect(result.classification).toBe('delivered');
    expect(v6.requests).toHaveLength(1);
  });

  it('resolves host names through the injected resolver', async () => {
    const { resolve, hostnames } = loopbackResolver(['127.0.0.1']);
    const sender = makeSender({ resolve });

    const result = await send(sender, `https://localhost:${relay.port}/hook`);

    expect(result.classification).toBe('delivered');
    expect(hostnames).toEqual(['localhost']);
  });

  it('reuses one connection for sequential sends', async () => {
    const sender = makeSender();

    for (let i = 0; i < 3; i += 1) {
      const result = await send(sender);
      expect(result.classification).toBe('delivered');
    }

    expect(relay.requests).toHaveLength(3);
    expect(relay.connectionCount).toBe(1);
    expect(new Set(relay.requests.map((request) => request.remotePort)).size).toBe(1);
  });

  it('leaves no timers after sending', async () => {
    const sender = makeSender({ timeoutMs: 600 });
    const before = countTimers();

    await send(sender);
    expect(countTimers()).toBeLessThanOrEqual(before);

    relay.setHandler(() => {});
    await send(sender);
    expect(countTimers()).toBeLessThanOrEqual(before);
  });
});

describe('sender response classification', () => {
  function answer(status: number, headers: Record<string, string> = {}, body = '') {
    relay.setHandler((_request, response) => {
      response.writeHead(status, headers);
      response.end(body);
    });
  }

  it('retries 503 with the response excerpt', async () => {
    answer(503, { 'content-type': 'text/plain' }, 'down for maintenance');

    const result = await send(makeSender());

    expect(result.classification).toBe('retry');
    expect(result.httpStatus).toBe(503);
    expect(result.errorClass).toBe('http_status');
    expect(result.errorMessage).toContain('HTTP 503');
    expect(result.responseExcerpt).toBe('down for maintenance');
    expect(result.retryAfterMs).toBeUndefined();
  });

  it('reads Retry-After seconds on 429', async () => {
    answer(429, { 'retry-after': '7' });

    const result = await send(makeSender());

    expect(result.classification).toBe('retry');
    expect(result.httpStatus).toBe(429);
    expect(result.retryAfterMs).toBe(7000);
  });

  it('reads a Retry-After date', async () => {
    const target = Math.floor(Date.now() / 1000) * 1000 + 30_000;
    answer(503, { 'retry-after': new Date(target).toUTCString() });

    const result = await send(makeSender());

    expect(result.retryAfterMs).toBeGreaterThan(25_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('ignores a garbage Retry-After', async () => {
    answer(503, { 'retry-after': 'in a while' });

    const result = await send(makeSender());

    expect(result.classification).toBe('retry');
    expect(result.retryAfterMs).toBeUndefined();
  });

  it('caps Retry-After at maxDelayMs', async () => {
    answer(429, { 'retry-after': '7200' });

    const fromSender = await send(makeSender({ maxDelayMs: 60_000 }));
    const fromRequest = await makeSender({ maxDelayMs: 60_000 }).send({
      url: relay.url,
      body: BODY,
      eventId: 'evt-2',
      maxDelayMs: 5000,
    });

    expect(fromSender.retryAfterMs).toBe(60_000);
    expect(fromRequest.retryAfterMs).toBe(5000);
  });

  it('fails 400 permanently', async () => {
    answer(400, { 'content-type': 'application/json' }, '{"error":"bad event"}');

    const result = await send(makeSender());

    expect(result.classification).toBe('permanent');
    expect(result.httpStatus).toBe(400);
    expect(result.errorClass).toBe('http_status');
    expect(result.responseExcerpt).toBe('{"error":"bad event"}');
  });

  it('reports 410 as gone', async () => {
    answer(410);

    const result = await send(makeSender());

    expect(result.classification).toBe('gone');
    expect(result.httpStatus).toBe(410);
  });

  it('does not follow redirects', async () => {
    const target = await startTestRelay({ path: '/moved' });
    cleanups.push(() => target.close());
    answer(302, { location: `${target.url}?token=hunter2#frag` });

    const result = await send(makeSender());

    expect(result.classification).toBe('redirect');
    expect(result.errorClass).toBe('redirect');
    expect(result.httpStatus).toBe(302);
    expect(result.location).toBe(target.url);
    expect(result.errorMessage).toContain(target.url);
    expect(result.errorMessage).not.toContain('hunter2');
    expect(target.requests).toHaveLength(0);
    expect(target.connectionCount).toBe(0);
  });

  it('resolves a relative Location', async () => {
    answer(308, { location: '/v2/hook?sig=1' });

    const result = await send(makeSender());

    expect(result.location).toBe(`${relay.origin}/v2/hook`);
  });
});

describe('sender response body', () => {
  it('caps the excerpt of a 10 MB body', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(Buffer.alloc(10 * 1024 * 1024, 'a'));
    });

    const result = await send(makeSender());

    expect(result.classification).toBe('delivered');
    expect(result.responseExcerpt).toBe('a'.repeat(4096));
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('stops reading an endless body', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const timer = setInterval(() => response.write(chunk), 5);
      response.on('close', () => clearInterval(timer));
    });

    const result = await send(makeSender({ maxResponseBytes: 100 }));

    expect(result.classification).toBe('retry');
    expect(result.httpStatus).toBe(500);
    expect(result.responseExcerpt).toBe('z'.repeat(100));
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('drops a character cut by the cap', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(200);
      response.end('ab測試');
    });

    const result = await send(makeSender({ maxResponseBytes: 4 }));

    expect(result.responseExcerpt).toBe('ab');
  });
});

describe('sender network failures', () => {
  it('times out a relay that never answers', async () => {
    relay.setHandler(() => {});

    const result = await send(makeSender({ timeoutMs: 600 }));

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('timeout');
    expect(result.httpStatus).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(550);
    expect(result.durationMs).toBeLessThan(1600);
  });

  it('times out a body that stalls after the headers', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('partial');
    });

    const result = await send(makeSender({ timeoutMs: 600 }));

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('timeout');
    expect(result.httpStatus).toBe(200);
    expect(result.errorMessage).toContain('body');
    expect(result.durationMs).toBeLessThan(1600);
  });

  it('retries a reset connection', async () => {
    relay.setHandler((_request, response) => {
      response.socket?.destroy();
    });

    const result = await send(makeSender());

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('connection_reset');
  });

  it('retries a body cut short by a reset', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('partial', () => response.socket?.destroy());
    });

    const result = await send(makeSender());

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('connection_reset');
    expect(result.httpStatus).toBe(200);
  });

  it('retries a refused connection without the query string', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    const result = await send(makeSender(), `https://127.0.0.1:${port}/hook?token=hunter2`);

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('connection_refused');
    expect(result.errorMessage).toContain(`127.0.0.1:${port}`);
    expect(result.errorMessage).not.toContain('hunter2');
  });

  it('retries a failed DNS lookup', async () => {
    const resolve = ((hostname: string, _options: LookupOptions, callback: Function) => {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      error.code = 'ENOTFOUND';
      process.nextTick(() => callback(error));
    }) as unknown as typeof dns.lookup;

    const result = await send(makeSender({ resolve }), 'https://relay.invalid/hook');

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('dns');
    expect(result.errorMessage).toContain('relay.invalid');
  });

  it('rejects an untrusted certificate', async () => {
    const result = await send(makeSender({ extraCaCertificates: [] }));

    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('tls');
    expect(relay.requests).toHaveLength(0);
  });

  it('checks the host name against the certificate', async () => {
    const { resolve } = loopbackResolver(['127.0.0.1']);

    const result = await send(makeSender({ resolve }), `https://relay.test:${relay.port}/hook`);

    expect(result.errorClass).toBe('tls');
    expect(relay.requests).toHaveLength(0);
  });
});

describe('sender address guard', () => {
  it.each(['127.0.0.1', '[::1]', '127.1', '[::ffff:127.0.0.1]'])(
    'rejects https://%s before connecting',
    async (host) => {
      const sender = makeSender({ allowPrivateAddresses: false });

      const result = await send(sender, `https://${host}:${relay.port}/hook`);

      expect(result.classification).toBe('permanent');
      expect(result.errorClass).toBe('address_not_allowed');
      expect(result.errorMessage).toContain('loopback');
      expect(relay.requests).toHaveLength(0);
      expect(relay.connectionCount).toBe(0);
    },
  );

  it('rejects a host name that resolves to loopback', async () => {
    const { resolve, hostnames } = loopbackResolver(['127.0.0.1']);
    const sender = makeSender({ allowPrivateAddresses: false, resolve });

    const result = await send(sender, `https://localhost:${relay.port}/hook`);

    expect(hostnames).toEqual(['localhost']);
    expect(result.classification).toBe('permanent');
    expect(result.errorClass).toBe('address_not_allowed');
    expect(relay.requests).toHaveLength(0);
    expect(relay.connectionCount).toBe(0);
  });
});

describe('sender input', () => {
  it.each([
    ['http://127.0.0.1/hook', 'https://'],
    ['not a url', 'not a URL'],
  ])('rejects %j as an invalid URL', async (url, expected) => {
    const result = await send(makeSender(), url);

    expect(result.classification).toBe('permanent');
    expect(result.errorClass).toBe('invalid_url');
    expect(result.errorMessage).toContain(expected);
  });

  it('rejects credentials in the URL without repeating them', async () => {
    const url = `https://user:hunter2@127.0.0.1:${relay.port}/hook`;

    const result = await send(makeSender(), url);

    expect(result.errorClass).toBe('invalid_url');
    expect(result.errorMessage).not.toContain('hunter2');
    expect(relay.requests).toHaveLength(0);
  });

  it('fails an unusable secret permanently', async () => {
    const result = await send(makeSender(), relay.url, { secret: 'whsec_!!!' });

    expect(result.classification).toBe('permanent');
    expect(result.errorClass).toBe('invalid_secret');
    expect(relay.requests).toHaveLength(0);
  });
});

describe('sender cancellation', () => {
  it('ends a hanging request on close', async () => {
    relay.setHandler(() => {});
    const sender = makeSender({ timeoutMs: 30_000 });
    const pending = send(sender);
    await relay.waitForRequests(1);
    const closedAt = performance.now();

    sender.close();
    const result = await pending;

    expect(performance.now() - closedAt).toBeLessThan(1000);
    expect(result.classification).toBe('retry');
    expect(result.errorClass).toBe('network');
    expect(result.errorMessage).toBe('sender closed');
  });

  it('returns at once after close', async () => {
    const sender = makeSender();
    sender.close();

    const result = await send(sender);

    expect(result.errorMessage).toBe('sender closed');
    expect(relay.requests).toHaveLength(0);
  });

  it('ends a request when the caller aborts', async () => {
    relay.setHandler(() => {});
    const sender = makeSender({ timeoutMs: 30_000 });
    const controller = new AbortController();
    const pending = send(sender, relay.url, { signal: controller.signal });
    await relay.waitForRequests(1);

    controller.abort();
    const result = await pending;

    expect(result.errorClass).toBe('network');
    expect(result.errorMessage).toContain('aborted');
    expect(result.durationMs).toBeLessThan(5000);
  });
});
