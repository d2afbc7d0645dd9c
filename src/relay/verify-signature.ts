import { Webhook } from 'standardwebhooks';

/**
 * Request headers as Node's `IncomingMessage.headers` (lower-case names) or a fetch `Headers`
 * object give them.
 */
export type CallbackHeaders =
  Record<string, string | string[] | undefined> | { get(name: string): string | null };

/** Reads one header by its lower-case name; the first value when it was sent more than once. */
export function readHeader(headers: CallbackHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }

  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

export type VerifySignatureResult = { ok: true } | { ok: false; message: string };

/**
 * Verifies `webhook-signature` over the raw body bytes with the `standardwebhooks` package, as
 * the Standard Webhooks specification defines it: HMAC-SHA256 of `<id>.<timestamp>.<body>`
 * keyed with the `whsec_` secret. It also fails when `webhook-timestamp` is more than five
 * minutes from this machine's clock, which limits replays of a captured request.
 */
export function verifySignature(
  secret: string,
  body: string | Uint8Array,
  headers: CallbackHeaders,
): VerifySignatureResult {
  try {
    new Webhook(secret).verify(
      body,
      {
        'webhook-id': readHeader(headers, 'webhook-id') ?? '',
        'webhook-timestamp': readHeader(headers, 'webhook-timestamp') ?? '',
        'webhook-signature': readHeader(headers, 'webhook-signature') ?? '',
      },
      { jsonParse: false },
    );
    return { ok: true };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
