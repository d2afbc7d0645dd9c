import { createServer } from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { generate } from 'selfsigned';
import { makeCertificate } from './https-relay.js';

/** What the fault relay does with the next requests, until the fault is changed. */
export type RelayFault =
  | { kind: 'ok' }
  /** Answers 200 after `delayMs`. */
  | { kind: 'slow'; delayMs: number }
  /** Responds with `status`, optional `Retry-After` and `Location` headers, and `body`. */
  | { kind: 'status'; status: number; retryAfter?: string; location?: string; body?: string }
  /** Reads the request and never sends a status line. */
  | { kind: 'hang' }
  /** Sends 200 headers and the first bytes of a body, then nothing more. */
  | { kind: 'stall-body' }
  /** Reads the request, then resets the TCP connection. */
  | { kind: 'reset' }
  /** Sends `status` and a body that never ends (bounded at 64 MiB so the test stops anyway). */
  | { kind: 'endless-body'; status: number }
  /** Presents a certificate the client must not accept. */
  | { kind: 'certificate'; certificate: UntrustedCertificate };

export type UntrustedCertificate = 'other-ca' | 'expired' | 'other-host';

export interface FaultRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The fault in force when the request arrived. */
  fault: RelayFault['kind'];
  /** True when the relay answered 2xx, so the request counts as a delivery. */
  delivered: boolean;
}

export interface FaultRelay {
  /** `https://127.0.0.1:<port>/hook`. */
  url: string;
  port: number;
  /** PEM of the CA the client must trust for the `ok` certificate. */
  ca: string;
  requests: FaultRequest[];
  /** TLS connections that completed a handshake. */
  readonly handshakes: number;
  /** Changes the behaviour for the next requests and connections. */
  setFault(fault: RelayFault): Promise<void>;
  /** Event ids of the requests answered 2xx, one entry per delivery. */
  deliveredIds(): string[];
  close(): Promise<void>;
}

const ENDLESS_BODY_LIMIT = 64 * 1024 * 1024;
const LOOPBACK_NAMES = [
  { type: 2, value: 'localhost' },
  { type: 7, ip: '127.0.0.1' },
  { type: 7, ip: '::1' },
];

/** Issues the certificates of the certificate faults, once per process. */
let untrusted: Promise<Record<UntrustedCertificate, { cert: string; key: string }>> | undefined;

function makeUntrustedCertificates(): Promise<
  Record<UntrustedCertificate, { cert: string; key: string }>
> {
  untrusted ??= (async () => {
    const trusted = await makeCertificate();
    const base = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
    type Extensions = NonNullable<NonNullable<Parameters<typeof generate>[1]>['extensions']>;
    const leaf = (names: object[]): Extensions =>
      [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: names },
      ] as Extensions;
    const day = 24 * 3_600_000;
    const [otherCa, expired, otherHost] = await Promise.all([
      generate([{ name: 'commonName', value: 'localhost' }], {
        ...base,
        extensions: leaf(LOOPBACK_NAMES),
      }),
      generate([{ name: 'commonName', value: 'localhost' }], {
        ...base,
        notBeforeDate: new Date(Date.now() - 3 * day),
        notAfterDate: new Date(Date.now() - day),
        extensions: leaf(LOOPBACK_NAMES),
        ca: trusted,
      }),
      generate([{ name: 'commonName', value: 'relay.other.test' }], {
        ...base,
        extensions: leaf([{ type: 2, value: 'relay.other.test' }]),
        ca: trusted,
      }),
    ]);
    const pair = (pems: { cert: string; private: string }) => ({
      cert: pems.cert,
      key: pems.private,
    });
    return {
      'other-ca': pair(otherCa),
      expired: pair(expired),
      'other-host': pair(otherHost),
    };
  })();

  return untrusted;
}

/**
 * Starts an HTTPS relay on 127.0.0.1 whose behaviour is switched with `setFault`: any status,
 * `Retry-After`, a hang before headers, a stalled or endless body, a reset connection, an
 * untrusted certificate, or a redirect. It starts in the `ok` state, answering 200.
 */
export async function startFaultRelay(): Promise<FaultRelay> {
  const trusted = await makeCertificate();
  const certificates = await makeUntrustedCertificates();
  const requests: FaultRequest[] = [];
  const sockets = new Set<Socket>();
  const openResponses = new Set<ServerResponse>();
  // A TLS socket cannot send a TCP reset itself; its TCP socket, found by client port, can.
  const tcpSocketByPort = new Map<number, Socket>();
  let fault: RelayFault = { kind: 'ok' };
  let handshakes = 0;

  const server = createServer({ cert: trusted.cert, key: trusted.key }, (incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const current = fault;
      const request: FaultRequest = {
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        fault: current.kind,
        delivered: false,
      };
      requests.push(request);
      openResponses.add(response);
      response.on('close', () => openResponses.delete(response));
      respond(current, request, response, tcpSocketByPort);
    });
    response.on('error', () => {});
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    tcpSocketByPort.set(socket.remotePort ?? 0, socket);
    socket.on('close', () => {
      sockets.delete(socket);
      tcpSocketByPort.delete(socket.remotePort ?? 0);
    });
    // Resets and abandoned responses are the point of these faults.
    socket.on('error', () => {});
  });
  server.on('secureConnection', () => {
    handshakes += 1;
  });
  // Rejected handshakes are the point of the certificate faults.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const address = server.address();

  if (address === null || typeof address === 'string') {
    throw new Error('fault relay did not bind a TCP port on 127.0.0.1');
  }

  return {
    url: `https://127.0.0.1:${address.port}/hook`,
    port: address.port,
    ca: trusted.cert,
    requests,
    get handshakes() {
      return handshakes;
    },
    async setFault(next) {
      fault = next;
      const pair = next.kind === 'certificate' ? certificates[next.certificate] : trusted;
      server.setSecureContext({ cert: pair.cert, key: pair.key });

      // Kept-alive connections were set up with the previous certificate.
      for (const socket of sockets) {
        socket.destroy();
      }
    },
    deliveredIds() {
      return requests
        .filter((request) => request.delivered)
        .map((request) => String(request.headers['webhook-id']));
    },
    close() {
      return new Promise((resolve) => {
        for (const response of openResponses) {
          response.destroy();
        }

        for (const socket of sockets) {
          socket.destroy();
        }

        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function respond(
  fault: RelayFault,
  request: FaultRequest,
  response: ServerResponse,
  tcpSocketByPort: Map<number, Socket>,
): void {
  switch (fault.kind) {
    case 'ok':
    case 'certificate': {
      request.delivered = true;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
      return;
    }

    case 'status': {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };

      if (fault.retryAfter !== undefined) {
        headers['retry-after'] = fault.retryAfter;
      }

      if (fault.location !== undefined) {
        headers.location = fault.location;
      }

      request.delivered = fault.status >= 200 && fault.status < 300;
      response.writeHead(fault.status, headers);
      response.end(fault.body ?? `fault relay answered ${fault.status}`);
      return;
    }

    case 'slow': {
      // Counted as delivered when the relay has the whole request, even if the client is gone
      // by the time the answer is written; the client then sends the event again.
      request.delivered = true;
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      }, fault.delayMs);
      return;
    }

    case 'hang':
      return;

    case 'stall-body': {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"ok":');
      return;
    }

    case 'reset': {
      tcpSocketByPort.get(response.socket?.remotePort ?? 0)?.resetAndDestroy();
      return;
    }

    case 'endless-body': {
      request.delivered = fault.status >= 200 && fault.status < 300;
      response.writeHead(fault.status, { 'content-type': 'text/plain' });
      void writeEndlessBody(response);
      return;
    }
  }
}

async function writeEndlessBody(response: ServerResponse): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let written = 0;

  while (!response.destroyed && written < ENDLESS_BODY_LIMIT) {
    written += chunk.length;

    if (!response.write(chunk)) {
      await new Promise<void>((resolve) => {
        response.once('drain', resolve);
        response.once('close', resolve);
      });
    }
  }

  response.end();
}
