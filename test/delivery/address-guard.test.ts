import type { LookupAddress, LookupOptions } from 'node:dns';
import type dns from 'node:dns';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  createGuardedLookup,
  guardSocket,
} from '../../src/delivery/address-guard.js';

describe('classifyAddress', () => {
  const hostOf = (url: string) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');

  it.each([
    ['127.0.0.1', 'loopback'],
    [hostOf('https://127.1/'), 'loopback'],
    [hostOf('https://0x7f.1/'), 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['100.64.0.1', 'cgnat'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    [hostOf('https://[::1]/'), 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    [hostOf('https://[::ffff:127.0.0.1]/'), 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['4000::1', 'reserved'],
  ])('classifies %s as %s', (address, reason) => {
    expect(classifyAddress(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1',
    '2a00:1450:4001::1',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts public %s', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it.each(['127.1', 'localhost', '', '1.2.3.4.5', '[::1]'])('rejects non-address %j', (text) => {
    expect(classifyAddress(text)).toBe('invalid');
  });
});

type Answer = { address: string; family: 4 | 6 };

/** Creates a resolver that returns fixed addresses and records the options of each call. */
function fakeResolver(answers: Answer[]) {
  const calls: { hostname: string; options: LookupOptions }[] = [];
  const resolve = ((hostname: string, options: LookupOptions, callback: Function) => {
    calls.push({ hostname, options });
    process.nextTick(() =>
      callback(
        null,
        answers.map((answer) => ({ ...answer })),
      ),
    );
  }) as unknown as typeof dns.lookup;

  return { resolve, calls };
}

function lookupAll(
  lookup: net.LookupFunction,
  hostname: string,
): Promise<{ error: NodeJS.ErrnoException | null; addresses: LookupAddress[] }> {
  return new Promise((resolve) => {
    lookup(hostname, { all: true }, (error, addresses) => {
      resolve({ error, addresses: addresses as LookupAddress[] });
    });
  });
}

function lookupOne(
  lookup: net.LookupFunction,
  hostname: string,
): Promise<{ error: NodeJS.ErrnoException | null; address: string; family?: number }> {
  return new Promise((resolve) => {
    lookup(hostname, {}, (error, address, family) => {
      resolve({ error, address: address as string, family });
    });
  });
}

describe('createGuardedLookup', () => {
  it('rejects a public answer followed by loopback', async () => {
    const { resolve } = fakeResolver([
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const lookup = createGuardedLookup({ allowPrivate: false, resolve });

    const { error } = await lookupAll(lookup, 'relay.example');

    expect(error?.code).toBe('ADDRESS_NOT_ALLOWED');
    expect(error?.message).toContain('127.0.0.1');
  });

  it('rejects in the single-address form too', async () => {
    const { resolve } = fakeResolver([
      { address: '2606:4700::1', family: 6 },
      { address: '::ffff:192.168.0.1', family: 6 },
    ]);
    const lookup = createGuardedLookup({ allowPrivate: false, resolve });

    const { error } = await lookupOne(lookup, 'relay.example');

    expect(error?.code).toBe('ADDRESS_NOT_ALLOWED');
  });

  it('accepts only public answers', async () => {
    const answers: Answer[] = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ];
    const { resolve, calls } = fakeResolver(answers);
    const lookup = createGuardedLookup({ allowPrivate: false, resolve });

    const all = await lookupAll(lookup, 'relay.example');
    const one = await lookupOne(lookup, 'relay.example');

    expect(all.error).toBeNull();
    expect(all.addresses).toEqual(answers);
    expect(one.error).toBeNull();
    expect(one.address).toBe('93.184.216.34');
    expect(one.family).toBe(4);
    expect(calls.every((call) => call.options.all === true)).toBe(true);
  });

  it('accepts loopback when private addresses are allowed', async () => {
    const { resolve } = fakeResolver([{ address: '127.0.0.1', family: 4 }]);
    const lookup = createGuardedLookup({ allowPrivate: true, resolve });

    const { error, address } = await lookupOne(lookup, 'localhost');

    expect(error).toBeNull();
    expect(address).toBe('127.0.0.1');
  });

  it('passes resolver errors through', async () => {
    const resolve = ((hostname: string, _options: LookupOptions, callback: Function) => {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      error.code = 'ENOTFOUND';
      process.nextTick(() => callback(error));
    }) as unknown as typeof dns.lookup;
    const lookup = createGuardedLookup({ allowPrivate: false, resolve });

    const { error } = await lookupAll(lookup, 'missing.example');

    expect(error?.code).toBe('ENOTFOUND');
  });

  it('fails an empty answer as not found', async () => {
    const { resolve } = fakeResolver([]);
    const lookup = createGuardedLookup({ allowPrivate: false, resolve });

    const { error } = await lookupOne(lookup, 'empty.example');

    expect(error?.code).toBe('ENOTFOUND');
  });
});

describe('guardSocket', () => {
  async function withLoopbackServer(run: (port: number, accepted: () => number) => Promise<void>) {
    let accepted = 0;
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      accepted += 1;
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;

    try {
      await run(port, () => accepted);
    } finally {
      server.close();
    }

    expect(Buffer.concat(received).length).toBe(0);
  }

  it('destroys a socket connected to loopback', async () => {
    await withLoopbackServer(async (port) => {
      const socket = net.connect(port, '127.0.0.1');
      guardSocket(socket, false);
      socket.write('must not arrive');

      const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];

      expect(error.code).toBe('ADDRESS_NOT_ALLOWED');
      expect(socket.destroyed).toBe(true);
    });
  });

  it('leaves loopback sockets open when allowed', async () => {
    await withLoopbackServer(async (port) => {
      const socket = net.connect(port, '127.0.0.1');
      guardSocket(socket, true);
      await once(socket, 'connect');

      expect(socket.destroyed).toBe(false);
      socket.destroy();
    });
  });

  it('checks a socket that is already connected', async () => {
    await withLoopbackServer(async (port) => {
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      const failed = once(socket, 'error');

      guardSocket(socket, false);

      const [error] = (await failed) as [NodeJS.ErrnoException];
      expect(error.code).toBe('ADDRESS_NOT_ALLOWED');
    });
  });
});
