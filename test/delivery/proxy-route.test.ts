import type dns from 'node:dns';
import type { LookupOptions } from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEnvProxyResolver } from '../../src/delivery/proxy-from-env.js';
import { createSender, type SenderOptions } from '../../src/delivery/sender.js';
import { proxyFromPacResult } from '../../src/electron/session-proxy-resolver.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

interface TestProxy {
  url: string;
  /** `host:port` of every CONNECT request received. */
  connects: string[];
  close(): Promise<void>;
}

/** Starts an HTTP CONNECT proxy on 127.0.0.1 that tunnels only to loopback targets. */
async function startTestProxy(): Promise<TestProxy> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_request, response) => {
    response.writeHead(405);
    response.end();
  });
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = request.url ?? '';
    connects.push(target);
    sockets.add(client);
    const [host, port] = target.split(':');

    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }

    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }

      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Creates a resolver that returns `address` for every host name, without any DNS query. */
function fixedResolver(address: string): typeof dns.lookup {
  return ((_hostname: string, _options: LookupOptions, callback: Function) => {
    process.nextTick(() => callback(null, [{ address, family: net.isIPv6(address) ? 6 : 4 }]));
  }) as unknown as typeof dns.lookup;
}

let relay: TestRelay;
let proxy: TestProxy;

beforeEach(async () => {
  relay = await startTestRelay();
  proxy = await startTestProxy();
});

afterEach(async () => {
  await proxy.close();
  await relay.close();
});

function makeSender(options: Partial<SenderOptions>) {
  return createSender({
    allowPrivateAddresses: true,
    extraCaCertificates: [relay.ca],
    timeoutMs: 2000,
    userAgent: 'Lime/1.6.0 lime-connect-webhook/0.1.0',
    ...options,
  });
}

describe('sender through a proxy', () => {
  it('tunnels the callback through CONNECT', async () => {
    const sender = makeSender({ resolveProxy: async () => proxy.url });
    const result = await sender.send({ url: relay.url, body: '{}', eventId: 'event-1' });
    sender.close();

    expect(result.classification).toBe('delivered');
    expect(proxy.connects).toEqual([`127.0.0.1:${relay.port}`]);
    expect(relay.requests[0]?.headers['webhook-id']).toBe('event-1');
  });

  it('connects directly when the resolver returns none', async () => {
    const sender = makeSender({ resolveProxy: async () => undefined });
    const result = await sender.send({ url: relay.url, body: '{}', eventId: 'event-2' });
    sender.close();

    expect(result.classification).toBe('delivered');
    expect(proxy.connects).toEqual([]);
  });

  it('rejects a target resolving to a private address', async () => {
    const sender = makeSender({
      allowPrivateAddresses: false,
      resolve: fixedResolver('10.1.2.3'),
      resolveProxy: async () => proxy.url,
    });
    const result = await sender.send({
      url: 'https://relay.invalid/hook',
      body: '{}',
      eventId: 'event-3',
    });
    sender.close();

    expect(result.classification).toBe('permanent');
    expect(result.errorClass).toBe('address_not_allowed');
    expect(result.errorMessage).toContain('10.1.2.3');
    expect(proxy.connects).toEqual([]);
  });

  it('retries when the proxy lookup fails', async () => {
    const sender = makeSender({
      resolveProxy: async () => {
        throw new Error('PAC script failed');
      },
    });
    const result = await sender.send({ url: relay.url, body: '{}', eventId: 'event-4' });
    sender.close();

    expect(result.classification).toBe('retry');
    expect(result.errorMessage).toBe('proxy lookup failed: PAC script failed');
  });
});

describe('proxyFromPacResult', () => {
  it.each([
    ['PROXY proxy.corp:8080; DIRECT', 'http://proxy.corp:8080'],
    ['HTTPS secure.corp:443', 'https://secure.corp:443'],
    ['SOCKS5 socks.corp:1080; PROXY proxy.corp:3128', 'http://proxy.corp:3128'],
    ['DIRECT', undefined],
    ['SOCKS5 socks.corp:1080', undefined],
  ])('reads %s', (result, expected) => {
    expect(proxyFromPacResult(result)).toBe(expected);
  });
});

describe('createEnvProxyResolver', () => {
  it('returns undefined without HTTPS_PROXY', () => {
    expect(createEnvProxyResolver({ HTTP_PROXY: 'http://p:1' })).toBeUndefined();
  });

  it.each([
    ['https://relay.example/hook', 'http://proxy:3128'],
    ['https://localhost/hook', undefined],
    ['https://a.internal.example/hook', undefined],
    ['https://internal.example/hook', undefined],
    ['https://10.0.0.1:8443/hook', undefined],
    ['https://10.0.0.1/hook', 'http://proxy:3128'],
    ['https://[::1]/hook', undefined],
  ])('routes %s', async (url, expected) => {
    const resolve = createEnvProxyResolver({
      HTTPS_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost, .internal.example,10.0.0.1:8443,::1',
    });

    expect(await resolve?.(new URL(url))).toBe(expected);
  });

  it('skips every host for NO_PROXY=*', async () => {
    const resolve = createEnvProxyResolver({ https_proxy: 'http://proxy:3128', no_proxy: '*' });

    expect(await resolve?.(new URL('https://relay.example/'))).toBeUndefined();
  });
});
