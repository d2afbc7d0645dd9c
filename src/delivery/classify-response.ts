import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { redactUrl } from './callback-url.js';
import { classifyStatus, parseRetryAfter } from './retry-policy.js';
import type { ResponseClass } from './retry-policy.js';

/** Failure cause of an attempt, as the attempt log and the panel show it. */
export type ErrorClass =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'address_not_allowed'
  | 'invalid_url'
  | 'invalid_secret'
  | 'network'
  | 'http_status'
  | 'redirect';

/** The part of an attempt's result that classification decides. */
export interface AttemptOutcome {
  /**
   * Next step for the event. Network errors and timeouts are `retry`, TLS failures included
   * because a relay may fix its certificate. Verification is never bypassed. A rejected
   * address and an unusable URL or secret are `permanent`.
   */
  classification: ResponseClass;
  /** Status of the response. It is also set when reading the body then failed, a retry. */
  httpStatus?: number;
  /** Absent when the callback was delivered. */
  errorClass?: ErrorClass;
  /** Plain sentence of at most 300 characters, without query strings or credentials. */
  errorMessage?: string;
  /** Delay a retryable response asked for with `Retry-After`, capped at `maxDelayMs`. */
  retryAfterMs?: number;
  /** `Location` of a 3xx response as origin and path. */
  location?: string;
}

/** Maximum length of an attempt's error message, in characters. */
export const MAX_ERROR_MESSAGE_LENGTH = 300;

/**
 * Classifies a complete HTTP response by its status. Retry-After is parsed only when the
 * status calls for a retry, and a 3xx records its `Location`, resolved against the request URL
 * and stripped of query and fragment.
 */
export function classifyResponse(response: {
  status: number;
  headers: IncomingHttpHeaders;
  url: URL;
  now: number;
  maxDelayMs: number;
}): AttemptOutcome {
  const { status, headers, url } = response;
  const classification = classifyStatus(status);

  if (classification === 'delivered') {
    return { classification, httpStatus: status };
  }

  const statusText = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

  if (classification === 'redirect') {
    const location = resolveLocation(headers.location, url);
    const target = location === undefined ? 'without a Location header' : `to ${location}`;
    return {
      classification,
      httpStatus: status,
      errorClass: 'redirect',
      errorMessage: toPlainMessage(
        `${url.host} returned ${statusText} redirecting ${target}; redirects are not followed, ` +
          'so update the callback URL',
      ),
      ...(location === undefined ? {} : { location }),
    };
  }

  const outcome: AttemptOutcome = {
    classification,
    httpStatus: status,
    errorClass: 'http_status',
    errorMessage: toPlainMessage(`${url.host} returned ${statusText}`),
  };

  if (classification === 'retry') {
    const retryAfterMs = parseRetryAfter(headers['retry-after'], response.now, response.maxDelayMs);

    if (retryAfterMs !== undefined) {
      outcome.retryAfterMs = retryAfterMs;
    }
  }

  return outcome;
}

function resolveLocation(value: string | undefined, base: URL): string | undefined {
  if (value === undefined || value.trim() === '') {
    return undefined;
  }

  try {
    return redactUrl(new URL(value, base));
  } catch {
    return '(invalid URL)';
  }
}

/** Error codes of certificate and TLS failures: Node's own and OpenSSL's verify results. */
const TLS_CODE = new RegExp(
  [
    '^(?:ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_',
    '|INVALID_CA$|INVALID_PURPOSE$|PATH_LENGTH_EXCEEDED$|HOSTNAME_MISMATCH$|EPROTO$)',
  ].join(''),
);

/** Error codes of `getaddrinfo` and c-ares failures. */
const DNS_CODE = /^(?:ENOTFOUND|EAI_\w+|ENODATA|ESERVFAIL|EREFUSED|ENOTIMP|EBADRESP|ENONAME)$/;

/**
 * Classifies an error thrown by got, or by the socket under it, before a complete response
 * arrived. The address guard's rejection and an unusable URL are permanent. Everything else
 * is retried, TLS failures included because a relay may fix its certificate. The message
 * names the host and the cause, never the query string or credentials.
 */
export function classifyRequestError(error: unknown, url: URL): AttemptOutcome {
  const code = findErrorCode(error);
  const host = url.host;
  const detail = describeError(error);

  if (code === 'ADDRESS_NOT_ALLOWED') {
    return failure('permanent', 'address_not_allowed', detail);
  }

  if (code === 'ERR_INVALID_URL') {
    return failure('permanent', 'invalid_url', `invalid callback URL: ${detail}`);
  }

  if (code === 'ETIMEDOUT') {
    return failure('retry', 'timeout', `connection to ${host} timed out`);
  }

  if (code === 'ECONNREFUSED') {
    return failure('retry', 'connection_refused', `connection refused by ${host}`);
  }

  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return failure('retry', 'connection_reset', `connection reset by ${host}`);
  }

  if (code !== undefined && DNS_CODE.test(code)) {
    return failure('retry', 'dns', `DNS lookup of ${url.hostname} failed (${code})`);
  }

  if (code !== undefined && TLS_CODE.test(code)) {
    return failure('retry', 'tls', `TLS connection to ${host} failed: ${detail} (${code})`);
  }

  const suffix = code === undefined ? '' : ` (${code})`;
  return failure('retry', 'network', `request to ${host} failed: ${detail}${suffix}`);
}

/** Builds a failed outcome with a message cleaned by `toPlainMessage`. */
export function failure(
  classification: ResponseClass,
  errorClass: ErrorClass,
  message: string,
): AttemptOutcome {
  return { classification, errorClass, errorMessage: toPlainMessage(message) };
}

/** Returns the first `code` along the `cause` chain, because got does not always copy it. */
function findErrorCode(error: unknown): string | undefined {
  let current: unknown = error;

  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const { code } = current as NodeJS.ErrnoException;

    if (typeof code === 'string' && code !== 'ERR_GOT_REQUEST_ERROR') {
      return code;
    }

    current = current.cause;
  }

  return undefined;
}

/** Returns the message of the innermost cause, which names the failure without got's wrapping. */
function describeError(error: unknown): string {
  let current: unknown = error;

  while (current instanceof Error && current.cause instanceof Error) {
    current = current.cause;
  }

  return current instanceof Error ? current.message : String(current);
}

/**
 * Makes text safe and short for the attempt log: control characters become spaces, URLs lose
 * their credentials, query and fragment, and the text is cut to 300 characters.
 */
export function toPlainMessage(text: string): string {
  const cleaned = text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)[?#]\S*/gi, '$1')
    .trim();

  if (cleaned.length <= MAX_ERROR_MESSAGE_LENGTH) {
    return cleaned;
  }

  return `${cleaned.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`;
}
