import { createServer } from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { generateCertificate } from '../../src/dev-host/local-relay.js';

/** A request as the test relay received it, body included. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Epoch milliseconds when the body was complete. */
  receivedAt: number;
  /** Client port of the TLS connection. Equal ports mean a reused connection. */
  remotePort: number;
}

export type RelayHandler = (
  request: ReceivedRequest,
  response: ServerResponse,
) => void | Promise<void>;

export interface TestRelay {
  /** `https://127.0.0.1:<port>/hook`, or `https://[::1]:<port>/hook`. */
  url: string;
  origin: string;
  port: number;
  /** PEM of the relay's self-signed certificate, to pass as an extra CA. */
  ca: string;
  /** Every request received, in order. */
  requests: ReceivedRequest[];
  /** Number of TLS connections accepted. */
  readonly connectionCount: number;
  setHandler(handler: RelayHandler): void;
  /** Resolves once `count` requests have arrived, and rejects after `timeoutMs` (default 5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

const answerOk: RelayHandler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"ok":true}');
};

let certificate: Promise<{ cert: string; key: string }> | undefined;

/**
 * Generates a self-signed certificate for 127.0.0.1, ::1 and localhost, once per process. It
 * doubles as its own CA, so a client trusts it by adding `cert` to its CA list.
 */
export function makeCertificate(): Promise<{ cert: string; key: string }> {
  certificate ??= generateCertificate();
  return certificate;
}

/**
 * Starts an HTTPS relay on a loopback address and a free port. It records every request and
 * then hands it to the handler, which by default responds 200 `{"ok":true}`. A handler that
 * throws gets a 500 response.
 */
export async function startTestRelay(
  options: { handler?: RelayHandler; host?: '127.0.0.1' | '::1'; path?: string } = {},
): Promise<TestRelay> {
  const { cert, key } = await makeCertificate();
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/hook';
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let handler = options.handler ?? answerOk;
  let connectionCount = 0;

  const server = createServer({ cert, key }, (incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const received: ReceivedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks),
        receivedAt: Date.now(),
        remotePort: incoming.socket.remotePort ?? 0,
      };
      requests.push(received);

      for (const wake of waiters) {
        wake();
      }

      Promise.resolve()
        .then(() => handler(received, response))
        .catch((error: unknown) => {
          if (!response.headersSent) {
            response.writeHead(500, { 'content-type': 'text/plain' });
          }

          response.end(`handler failed: ${String(error)}`);
        });
    });

    // Tests reset or abandon connections on purpose, so a write to a closed socket is expected.
    response.on('error', () => {});
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Clients in tests destroy sockets mid-response, so the resulting socket errors are expected.
    socket.on('error', () => {});
  });

  server.on('secureConnection', () => {
    connectionCount += 1;
  });

  // Failed handshakes are the point of the untrusted-certificate tests.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address();

  if (address === null || typeof address === 'string') {
    throw new Error(`test relay did not bind a TCP port on ${host}`);
  }

  const origin = `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url: `${origin}${path}`,
    origin,
    port: address.port,
    ca: cert,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    setHandler(next) {
      handler = next;
    },
    waitForRequests(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(requests.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const received = `received ${requests.length}`;
          reject(new Error(`expected ${count} requests within ${timeoutMs} ms, ${received}`));
        }, timeoutMs);

        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }

        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
