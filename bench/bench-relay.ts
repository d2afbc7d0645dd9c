import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { makeCertificate } from '../test/helpers/https-relay.js';

/** A loopback HTTPS relay for benchmarks that can stop and start again on the same port. */
export interface BenchRelay {
  url: string;
  ca: string;
  port: number;
  /** Status code of every response; 200 unless changed. */
  status: number;
  /** Number of 2xx responses finished. */
  readonly delivered: number;
  /** `performance.timeOrigin + performance.now()` of each finished 2xx response, in order. */
  readonly deliveredAt: number[];
  /** Every request body received, in order. */
  readonly bodies: string[];
  /** Stops listening and drops every connection; `url` stays valid for `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  reset(): void;
}

/** Returns an epoch time in milliseconds with sub-millisecond precision, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Starts a relay on 127.0.0.1 that answers `{"ok":true}` with `relay.status`. */
export async function startBenchRelay(options: { keepBodies?: boolean } = {}): Promise<BenchRelay> {
  const { cert, key } = await makeCertificate();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const relay: BenchRelay & { deliveredAt: number[]; bodies: string[] } = {
    url: '',
    ca: cert,
    port: 0,
    status: 200,
    get delivered() {
      return this.deliveredAt.length;
    },
    deliveredAt: [],
    bodies: [],
    async stop() {
      const current = server;
      server = undefined;

      if (current === undefined) {
        return;
      }

      for (const socket of sockets) {
        socket.destroy();
      }

      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      const next = createServer({ cert, key }, (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (options.keepBodies === true) {
            relay.bodies.push(Buffer.concat(chunks).toString('utf8'));
          }

          const status = relay.status;
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end('{"ok":true}', () => {
            if (status >= 200 && status < 300) {
              relay.deliveredAt.push(preciseNow());
            }
          });
        });
      });
      next.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // Clients drop keep-alive sockets when they finish; a reset here is expected.
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, '127.0.0.1', () => resolve());
      });
      const address = next.address();

      if (address === null || typeof address === 'string') {
        throw new Error('benchmark relay did not bind a TCP port');
      }

      port = address.port;
      relay.port = port;
      relay.url = `https://127.0.0.1:${port}/hook`;
      server = next;
    },
    reset() {
      relay.deliveredAt.length = 0;
      relay.bodies.length = 0;
    },
  };

  await relay.start();
  return relay;
}
