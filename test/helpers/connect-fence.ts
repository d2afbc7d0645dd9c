import net from 'node:net';

/**
 * A stricter network fence for tests that aim the plugin at forbidden addresses. It wraps
 * `net.Socket.prototype.connect`, which plain, TLS and HTTPS sockets all go through, because
 * Node 20 publishes no `net.client.socket` message for `tls.connect`. A socket is stopped
 * before it connects when its target IP address, or the DNS result for its host name, is
 * outside `allowed`. Every stopped target is recorded.
 */
export interface ConnectFence {
  /** Targets stopped by the fence, as `address` or `host -> address`. */
  violations: string[];
  /** Every host or address a socket was asked to connect to. */
  targets: string[];
  uninstall(): void;
}

export function isLoopback(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return plain === '::1' || (net.isIPv4(plain) && plain.startsWith('127.'));
}

export function installConnectFence(
  allowed: (address: string) => boolean = isLoopback,
): ConnectFence {
  const original = net.Socket.prototype.connect;
  const violations: string[] = [];
  const targets: string[] = [];

  const guarded = function (this: net.Socket, ...args: unknown[]): net.Socket {
    // net.connect() passes its normalised arguments as one array; tls.connect() passes them
    // as (options, callback).
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = (
      typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }
    ) as { host?: unknown; path?: unknown };

    if (options.path === undefined) {
      const host = typeof options.host === 'string' ? options.host : 'localhost';
      targets.push(host);

      if (net.isIP(host) !== 0 && !allowed(host)) {
        violations.push(host);
        const error = new Error(`connect fence: ${host} is not an allowed test address`);
        process.nextTick(() => this.destroy(error));
        return this;
      }

      // Emitted after the DNS lookup and before the connection attempt to that address.
      this.on('lookup', (error: Error | null, address: unknown) => {
        if (error === null && typeof address === 'string' && !allowed(address)) {
          violations.push(`${host} -> ${address}`);
          this.destroy(new Error(`connect fence: ${address} is not an allowed test address`));
        }
      });
    }

    return (original as (...values: unknown[]) => net.Socket).apply(this, args);
  };

  net.Socket.prototype.connect = guarded as typeof net.Socket.prototype.connect;

  return {
    violations,
    targets,
    uninstall() {
      net.Socket.prototype.connect = original;
    },
  };
}
