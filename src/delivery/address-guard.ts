import dns from 'node:dns';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { LookupFunction, Socket } from 'node:net';
import { ConnectWebhookError } from '../errors.js';

type Range = readonly [reason: string, network: string, prefix: number];

/**
 * IPv4 ranges that a callback must not reach, from the IANA IPv4 Special-Purpose Address
 * Registry (RFC 6890 and its updates) plus multicast and the old class E space.
 */
const IPV4_RANGES: readonly Range[] = [
  ['broadcast', '255.255.255.255', 32],
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['cgnat', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24],
  ['documentation', '192.0.2.0', 24],
  ['reserved', '192.88.99.0', 24],
  ['private', '192.168.0.0', 16],
  ['benchmarking', '198.18.0.0', 15],
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
];

/**
 * IPv6 ranges that a callback must not reach, from the IANA IPv6 Special-Purpose Address
 * Registry. Forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are decided by
 * the embedded address before this table is read.
 */
const IPV6_RANGES: readonly Range[] = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['private', '64:ff9b:1::', 48],
  ['reserved', '100::', 64],
  ['reserved', '2001::', 23],
  ['documentation', '2001:db8::', 32],
  ['documentation', '3fff::', 20],
  ['unique-local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['site-local', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
];

function buildLists(ranges: readonly Range[], family: 'ipv4' | 'ipv6') {
  return ranges.map(([reason, network, prefix]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { reason, list };
  });
}

const ipv4Lists = buildLists(IPV4_RANGES, 'ipv4');
const ipv6Lists = buildLists(IPV6_RANGES, 'ipv6');

/** Global unicast space (2000::/3); IANA has allocated nothing public outside it. */
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/**
 * Returns why an IP address is not public, such as `loopback`, `private`, `link-local`,
 * `unique-local`, `multicast`, `unspecified`, `reserved`, `broadcast`, `cgnat` or
 * `documentation`, or undefined when it is public. Text that is not an IP address returns
 * `invalid`. Host names such as `127.1` must go through the WHATWG URL parser first, which
 * turns them into dotted quads.
 */
export function classifyAddress(address: string): string | undefined {
  // Link-local addresses from getaddrinfo may carry a zone, as in `fe80::1%eth0`.
  const withoutZone = address.split('%', 1)[0] ?? '';

  if (isIPv4(withoutZone)) {
    return classifyIpv4(withoutZone);
  }

  if (isIPv6(withoutZone)) {
    return classifyIpv6(withoutZone);
  }

  return 'invalid';
}

function classifyIpv4(address: string): string | undefined {
  return ipv4Lists.find(({ list }) => list.check(address, 'ipv4'))?.reason;
}

function classifyIpv6(address: string): string | undefined {
  const groups = parseIpv6Groups(address);
  const embedded = classifyEmbeddedIpv4(groups);

  if (embedded !== undefined) {
    return embedded.reason;
  }

  const reason = ipv6Lists.find(({ list }) => list.check(address, 'ipv6'))?.reason;

  if (reason !== undefined) {
    return reason;
  }

  return globalUnicast.check(address, 'ipv6') ? undefined : 'reserved';
}

/**
 * Decides IPv6 forms that carry an IPv4 address, because a dual-stack socket, a NAT64 gateway
 * or a 6to4 relay delivers them to that IPv4 address. Returns undefined for other forms.
 */
function classifyEmbeddedIpv4(groups: number[]): { reason: string | undefined } | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const lowV4 = formatIpv4(g6, g7);
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;

  // ::ffff:a.b.c.d (IPv4-mapped, RFC 4291) and ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765).
  if (upperZero && ((g4 === 0 && g5 === 0xffff) || (g4 === 0xffff && g5 === 0))) {
    return { reason: classifyIpv4(lowV4) };
  }

  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291), apart from :: and ::1.
  if (upperZero && g4 === 0 && g5 === 0 && (g6 !== 0 || g7 > 1)) {
    return { reason: classifyIpv4(lowV4) ?? 'reserved' };
  }

  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052).
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return { reason: classifyIpv4(lowV4) };
  }

  // 2002::/16, 6to4 (RFC 3056): the IPv4 address sits in bits 16 to 47.
  if (g0 === 0x2002) {
    return { reason: classifyIpv4(formatIpv4(g1, g2)) };
  }

  return undefined;
}

function formatIpv4(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** Expands a valid IPv6 address, `::` and a trailing dotted quad included, to 8 groups. */
function parseIpv6Groups(address: string): number[] {
  const parseHalf = (text: string): number[] => {
    if (text === '') {
      return [];
    }

    return text.split(':').flatMap((part) => {
      if (part.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
        return [(a << 8) | b, (c << 8) | d];
      }

      return [Number.parseInt(part, 16)];
    });
  };

  const [head = '', tail] = address.split('::');
  const headGroups = parseHalf(head);

  if (tail === undefined) {
    return headGroups;
  }

  const tailGroups = parseHalf(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups];
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * Creates a `lookup` function for `net.connect`, `https.request` and got's `dnsLookup` option.
 * It always resolves every address of the host, so a resolver that returns a public address
 * first and 127.0.0.1 second is rejected. When `allowPrivate` is false, any address that is
 * not public fails the lookup with code `ADDRESS_NOT_ALLOWED` before a connection is
 * attempted. Both the `all: true` and the single-address callback forms are supported.
 */
export function createGuardedLookup(options: {
  allowPrivate: boolean;
  resolve?: typeof dns.lookup;
}): LookupFunction {
  const resolve = options.resolve ?? dns.lookup;

  return (hostname: string, lookupOptions: unknown, maybeCallback?: unknown) => {
    const callback = (
      typeof lookupOptions === 'function' ? lookupOptions : maybeCallback
    ) as LookupCallback;
    const requested = normaliseLookupOptions(lookupOptions);
    const fail = (error: NodeJS.ErrnoException) => {
      callback(error, requested.all === true ? [] : '');
    };

    resolve(hostname, { ...requested, all: true }, (error, addresses) => {
      if (error) {
        fail(error);
        return;
      }

      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(
          `DNS lookup of ${hostname} returned no address`,
        );
        notFound.code = 'ENOTFOUND';
        fail(notFound);
        return;
      }

      if (!options.allowPrivate) {
        for (const { address } of addresses) {
          const reason = classifyAddress(address);

          if (reason !== undefined) {
            fail(addressNotAllowed(hostname, address, reason));
            return;
          }
        }
      }

      if (requested.all === true) {
        callback(null, addresses);
        return;
      }

      const [first] = addresses as [dns.LookupAddress];
      callback(null, first.address, first.family);
    });
  };
}

/** Accepts the option shapes of `dns.lookup`: an object, a family number or nothing. */
function normaliseLookupOptions(value: unknown): dns.LookupOptions {
  if (typeof value === 'number') {
    return { family: value };
  }

  if (typeof value === 'object' && value !== null) {
    return value as dns.LookupOptions;
  }

  return {};
}

function addressNotAllowed(host: string, address: string, reason: string): ConnectWebhookError {
  const subject = host === address ? address : `${host} resolves to ${address}, which`;
  return new ConnectWebhookError(
    'ADDRESS_NOT_ALLOWED',
    `${subject} is ${/^[aeiou]/.test(reason) ? 'an' : 'a'} ${reason} address; only public addresses are allowed unless ` +
      'network.allowPrivateAddresses is true',
  );
}

/**
 * Checks the address a socket actually connected to and destroys the socket with an
 * `ADDRESS_NOT_ALLOWED` error when it is not public. The lookup guard alone is not enough,
 * because Node skips `lookup` for IP-literal hosts such as `https://127.1/` or
 * `https://[::1]/`. The check runs before any other `connect` listener, so a TLS client does
 * not send its hello to a rejected address.
 */
export function guardSocket(socket: Socket, allowPrivate: boolean): void {
  if (allowPrivate) {
    return;
  }

  const check = () => {
    const address = socket.remoteAddress;

    // A socket that closed before this check has no remote address and nothing left to guard.
    if (address === undefined) {
      return;
    }

    const reason = classifyAddress(address);

    if (reason !== undefined) {
      socket.destroy(addressNotAllowed(address, address, reason));
    }
  };

  if (!socket.connecting && socket.remoteAddress !== undefined) {
    check();
    return;
  }

  socket.prependOnceListener('connect', check);
  socket.prependOnceListener('secureConnect', check);
}
