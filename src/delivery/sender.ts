import dns from 'node:dns';
import { once } from 'node:events';
import https from 'node:https';
import { isIP, Socket } from 'node:net';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';
import got from 'got';
import type { Request as GotRequest, PlainResponse } from 'got';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_SETTINGS } from '../settings/settings-schema.js';
import { classifyAddress, createGuardedLookup, guardSocket } from './address-guard.js';
import { checkCallbackUrl } from './callback-url.js';
import { createProxyRouter, type ProxyResolver } from './proxy-route.js';
import { classifyRequestError, classifyResponse, failure } from './classify-response.js';
import type { AttemptOutcome, ErrorClass } from './classify-response.js';

export type { ErrorClass } from './classify-response.js';

/** Default cap of the response body bytes read per attempt. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4096;

export interface SenderOptions {
  /** Allows hosts that resolve to, or are, loopback, private or link-local addresses. */
  allowPrivateAddresses: boolean;
  /** PEM certificates trusted in addition to `tls.rootCertificates`. Verification stays on. */
  extraCaCertificates: string[];
  /** Deadline of a whole attempt in milliseconds: lookup, connect, TLS, headers and body. */
  timeoutMs: number;
  /** `User-Agent` header, such as `Lime/1.2.3 lime-connect-webhook/0.1.0`. */
  userAgent: string;
  /** Maximum response body bytes read per attempt. Default 4096. */
  maxResponseBytes?: number;
  /** Cap of a `Retry-After` delay in milliseconds. Default 3600000, as `retry.maxDelayMs`. */
  maxDelayMs?: number;
  /** Resolver behind the address guard. Default `dns.lookup`. */
  resolve?: typeof dns.lookup;
  /**
   * Chooses a proxy per callback URL (Electron's system proxy, or HTTPS_PROXY and NO_PROXY).
   * Default: always connect directly.
   */
  resolveProxy?: ProxyResolver;
}

export interface SendRequest {
  url: string;
  /** The serialised JSON payload, sent byte for byte. */
  body: string;
  /** Event id, sent as `webhook-id` and identical on every attempt of one event. */
  eventId: string;
  /** Standard Webhooks secret (`whsec_...`). When set, the attempt carries `webhook-signature`. */
  secret?: string;
  /** Clock in epoch milliseconds for `webhook-timestamp`. Default `Date.now`. */
  now?: () => number;
  /** Cap of a `Retry-After` delay in milliseconds for this attempt, over the sender's cap. */
  maxDelayMs?: number;
}

/**
 * One delivery attempt as the attempt log records it: the classified outcome (see
 * AttemptOutcome for each field), when it ran, and the start of the response.
 */
export interface AttemptResult extends AttemptOutcome {
  /** Start of the attempt, epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  /** Start of the response body as UTF-8 text, at most `maxResponseBytes` bytes of it. */
  responseExcerpt?: string;
}

export interface Sender {
  /** Makes one delivery attempt. Never rejects: every failure is a classified result. */
  send(request: SendRequest, signal?: AbortSignal): Promise<AttemptResult>;
  /** Destroys the keep-alive connections and ends in-flight attempts with `sender closed`. */
  close(): void;
  /**
   * Closes keep-alive connections that no attempt is using, so that an idle plugin keeps no
   * sockets open. Attempts in flight keep theirs; the next attempt opens a new connection.
   */
  releaseIdleSockets(): void;
}

/** Cause of an attempt stopped from outside got, kept as the abort reason. */
type StopReason = 'timeout' | 'closed' | 'aborted';

/**
 * An https.Agent whose new sockets are checked by `guardSocket`, so that the address actually
 * connected to is public even when Node skipped the lookup for an IP-literal host.
 */
class GuardedAgent extends https.Agent {
  readonly #allowPrivate: boolean;

  constructor(options: https.AgentOptions, allowPrivate: boolean) {
    super(options);
    this.#allowPrivate = allowPrivate;
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);

    if (socket instanceof Socket) {
      guardSocket(socket, this.#allowPrivate);
    }

    return socket;
  }
}

/**
 * Creates a sender that posts callbacks with got over one keep-alive agent. Redirects are not
 * followed, got does not retry (the outbox owns retries), and response bodies are read only up
 * to `maxResponseBytes`.
 */
export function createSender(options: SenderOptions): Sender {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const defaultMaxDelayMs = options.maxDelayMs ?? DEFAULT_SETTINGS.retry.maxDelayMs;
  const agentOptions: https.AgentOptions = {
    keepAlive: true,
    lookup: createGuardedLookup({
      allowPrivate: options.allowPrivateAddresses,
      ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
    }),
  };

  // `ca` replaces Node's default trust store, so the bundled roots are listed again. Roots
  // added through NODE_EXTRA_CA_CERTS are not part of tls.rootCertificates and drop out here.
  // The list goes into one secure context built here: passed as `ca`, https.Agent would join
  // every certificate into its connection-pool key on each request (about 200 KB of text).
  if (options.extraCaCertificates.length > 0) {
    agentOptions.secureContext = tls.createSecureContext({
      ca: [...tls.rootCertificates, ...options.extraCaCertificates],
    });
  }

  const agent = new GuardedAgent(agentOptions, options.allowPrivateAddresses);
  const proxies = createProxyRouter({
    agentOptions,
    allowPrivateAddresses: options.allowPrivateAddresses,
    ...(options.resolveProxy === undefined ? {} : { resolveProxy: options.resolveProxy }),
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
  });
  const client = got.extend({
    method: 'POST',
    agent: { https: agent },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    // Without decompression got sends no Accept-Encoding, and the excerpt is the raw body.
    decompress: false,
  });
  const inFlight = new Set<AbortController>();
  let closed = false;

  const send = async (request: SendRequest, signal?: AbortSignal): Promise<AttemptResult> => {
    const startedAt = Date.now();
    const started = performance.now();
    const finish = (outcome: AttemptOutcome, responseExcerpt?: string): AttemptResult => ({
      startedAt,
      durationMs: Math.round(performance.now() - started),
      ...outcome,
      ...(responseExcerpt === undefined || responseExcerpt === '' ? {} : { responseExcerpt }),
    });

    if (closed) {
      return finish(failure('retry', 'network', 'sender closed'));
    }

    if (signal?.aborted) {
      return finish(failure('retry', 'network', 'attempt aborted by the caller'));
    }

    const checked = checkCallbackUrl(request.url);

    if (!checked.ok) {
      const message = `invalid callback URL: ${checked.message}`;
      return finish(failure('permanent', 'invalid_url', message));
    }

    const url = checked.url;
    const rejected = rejectAddressLiteral(url, options.allowPrivateAddresses);

    if (rejected !== undefined) {
      return finish(rejected);
    }

    let headers: Record<string, string>;

    try {
      headers = buildHeaders(request, options.userAgent);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const message = `invalid signing secret: ${detail}`;
      return finish(failure('permanent', 'invalid_secret', message));
    }

    const route = await proxies.route(url);

    if ('failure' in route) {
      return finish(route.failure);
    }

    const controller = new AbortController();
    const stop = (reason: StopReason) => controller.abort(reason);
    const deadline = setTimeout(stop, options.timeoutMs, 'timeout');
    const onCallerAbort = () => stop('aborted');
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    inFlight.add(controller);

    let response: PlainResponse | undefined;

    try {
      const stream = client.stream(url, {
        body: request.body,
        headers,
        signal: controller.signal,
        ...(route.agent === undefined ? {} : { agent: { https: route.agent } }),
      });
      [response] = (await once(stream, 'response')) as [PlainResponse];
      const excerpt = await readExcerpt(stream, maxResponseBytes);
      const outcome = classifyResponse({
        status: response.statusCode,
        headers: response.headers,
        url,
        now: Date.now(),
        maxDelayMs: request.maxDelayMs ?? defaultMaxDelayMs,
      });
      return finish(outcome, excerpt);
    } catch (error) {
      // The abort reason set here wins over got's error, which only reports an abort.
      const outcome = controller.signal.aborted
        ? describeStop(controller.signal.reason as StopReason, url, options.timeoutMs, response)
        : classifyRequestError(error, url);

      if (response !== undefined) {
        outcome.httpStatus = response.statusCode;
      }

      return finish(outcome);
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onCallerAbort);
      inFlight.delete(controller);
    }
  };

  const close = () => {
    closed = true;

    for (const controller of inFlight) {
      controller.abort('closed' satisfies StopReason);
    }

    agent.destroy();
    proxies.close();
  };

  const releaseIdleSockets = () => {
    for (const sockets of Object.values(agent.freeSockets)) {
      for (const socket of sockets ?? []) {
        socket.destroy();
      }
    }
  };

  return { send, close, releaseIdleSockets };
}

/**
 * Rejects an IP-literal host that is not public before any connection, because Node does not
 * call `lookup` for it. `guardSocket` checks the connected address again.
 */
function rejectAddressLiteral(url: URL, allowPrivate: boolean): AttemptOutcome | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');

  if (allowPrivate || isIP(host) === 0) {
    return undefined;
  }

  const reason = classifyAddress(host);

  if (reason === undefined) {
    return undefined;
  }

  return failure(
    'permanent',
    'address_not_allowed',
    `${host} is a ${reason} address; only public addresses are allowed unless ` +
      'network.allowPrivateAddresses is true',
  );
}

/** Builds the Standard Webhooks headers of one attempt; throws when the secret is unusable. */
function buildHeaders(request: SendRequest, userAgent: string): Record<string, string> {
  const timestamp = Math.floor((request.now ?? Date.now)() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'webhook-id': request.eventId,
    'webhook-timestamp': String(timestamp),
  };

  if (request.secret !== undefined) {
    const webhook = new Webhook(request.secret);
    headers['webhook-signature'] = webhook.sign(
      request.eventId,
      new Date(timestamp * 1000),
      request.body,
    );
  }

  return headers;
}

/**
 * Reads at most `maxBytes` of the body and destroys the response once more arrives, so that a
 * large or endless body costs one chunk. A body that ends within the cap is read to its end,
 * which leaves the connection free for the next attempt. A multi-byte character cut by the cap
 * is dropped.
 */
function readExcerpt(stream: GotRequest, maxBytes: number): Promise<string> {
  // Events rather than `for await`: the async iterator costs more than the rest of a small
  // response, and a backlog drain reads thousands of them.
  return new Promise<string>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let received = 0;

    const finish = (error?: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);

      if (error === undefined) {
        resolve(text);
      } else {
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      const room = maxBytes - received;

      if (room > 0) {
        text += decoder.write(chunk.subarray(0, room));
      }

      received += chunk.length;

      if (received > maxBytes) {
        // Destroying the stream closes its socket, so the rest is never read.
        finish();
        stream.destroy();
      }
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error('the response closed before its end'));

    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

function describeStop(
  reason: StopReason,
  url: URL,
  timeoutMs: number,
  response: PlainResponse | undefined,
): AttemptOutcome {
  if (reason === 'timeout') {
    const phase = response ? 'before the response body ended' : 'before the response arrived';
    return failure('retry', 'timeout', `${url.host} timed out after ${timeoutMs} ms ${phase}`);
  }

  if (reason === 'closed') {
    return failure('retry', 'network', 'sender closed');
  }

  return failure('retry', 'network', 'attempt aborted by the caller');
}
