import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { generate } from 'selfsigned';
import { CallbackReceiver, type CheckResult } from '../relay/callback-receiver.js';
import type { CallbackTally } from '../relay/callback-tally.js';

/** How the local relay answers callbacks; the development page switches between them. */
export const RELAY_MODES = ['ok', 'fail-once', 'fail-503', 'hang', 'gone'] as const;
export type RelayMode = (typeof RELAY_MODES)[number];

export interface ReceivedCallback {
  eventId: string;
  receivedAt: number;
  verified: boolean;
  duplicate: boolean;
  status?: string;
  ref?: string;
  answeredWith: number | 'no answer';
  problem?: string;
}

export interface LocalRelay {
  url: string;
  port: number;
  /** PEM of the relay's self-signed certificate; the host trusts it as an extra CA. */
  certificate: string;
  /** Standard Webhooks secret shared with the plugin's settings. */
  secret: string;
  mode: RelayMode;
  received: ReceivedCallback[];
  /** Event ids received, verified and counted once. */
  verifiedIds: Set<string>;
  /** Outcome counts of the callbacks that got a 200 response, each event id once. */
  tally: CallbackTally;
  close(): Promise<void>;
}

/** Generates a self-signed certificate for 127.0.0.1, ::1 and localhost, valid for 30 days. */
export async function generateCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'lime-connect-webhook local relay' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 30 * 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * Starts the development relay: an HTTPS endpoint on 127.0.0.1 that checks each callback with
 * the relay kit (src/relay): signature over the raw body bytes, payload schema, dedupe on
 * `webhook-id` and tally. It responds according to `mode` and counts a callback only when it
 * responds 200.
 */
export async function startLocalRelay(
  options: { port?: number; path?: string } = {},
): Promise<LocalRelay> {
  const { cert, key } = await generateCertificate();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = new CallbackReceiver({ secret });
  const sockets = new Set<Socket>();
  const path = options.path ?? '/lime/callback';

  const relay: LocalRelay = {
    url: '',
    port: 0,
    certificate: cert,
    secret,
    mode: 'ok',
    received: [],
    verifiedIds: new Set(),
    tally: receiver.tally,
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }

      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;

    request.on('data', (chunk: Buffer) => {
      size += chunk.length;

      if (size <= 65_536) {
        chunks.push(chunk);
      }
    });

    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const eventId = String(request.headers['webhook-id'] ?? '');
      const entry: ReceivedCallback = {
        eventId,
        receivedAt: Date.now(),
        verified: false,
        duplicate: false,
        answeredWith: 200,
      };

      let checked: CheckResult | undefined;

      if (request.url !== path || request.method !== 'POST') {
        entry.problem = `unexpected ${request.method ?? '?'} ${request.url ?? '?'}`;
        entry.answeredWith = 404;
      } else {
        checked = receiver.check({ body, headers: request.headers });

        if (checked.kind === 'callback') {
          entry.verified = true;
          entry.status = checked.payload.status;
          entry.ref = checked.payload.ref;
        } else {
          entry.problem = checked.message;
          entry.answeredWith = checked.status;
        }
      }

      if (checked?.kind === 'callback') {
        entry.answeredWith = answerFor(relay);
        entry.duplicate = checked.duplicate;

        if (entry.answeredWith === 200) {
          receiver.record(checked);
          relay.verifiedIds.add(eventId);
        }
      }

      relay.received.push(entry);

      if (entry.answeredWith === 'no answer') {
        return;
      }

      const headers: Record<string, string> = { 'content-type': 'application/json' };

      if (entry.answeredWith === 503) {
        headers['retry-after'] = '2';
      }

      response.writeHead(entry.answeredWith, headers);
      response.end(JSON.stringify({ ok: entry.answeredWith === 200, problem: entry.problem }));
    });

    response.on('error', () => {
      // The plugin gave up on a hanging answer and closed the connection; nothing to report.
    });
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await listen(server, options.port ?? 0);
  const address = server.address();
  relay.port = typeof address === 'object' && address !== null ? address.port : 0;
  relay.url = `https://127.0.0.1:${relay.port}${path}`;
  return relay;
}

function answerFor(relay: LocalRelay): number | 'no answer' {
  switch (relay.mode) {
    case 'ok':
      return 200;
    case 'fail-503':
      return 503;
    case 'fail-once':
      relay.mode = 'ok';
      return 503;
    case 'hang':
      return 'no answer';
    case 'gone':
      return 410;
  }
}

/** Listens on 127.0.0.1; when the asked port is taken, falls back to a free one. */
async function listen(server: Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if (port === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw error;
    }

    await listen(server, 0);
  }
}
