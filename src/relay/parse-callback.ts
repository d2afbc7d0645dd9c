import { CallbackPayloadSchema, type CallbackPayload } from '../connect/payload-schema.js';

export type ParseCallbackResult =
  { ok: true; payload: CallbackPayload } | { ok: false; field: string; message: string };

/**
 * Parses a callback body with the schema the plugin validates against before it sends. Fails
 * on invalid JSON, a missing or extra field, and values outside the wire contract. `field` is
 * the dotted path of the first problem, such as `client.platform`.
 */
export function parseCallback(body: string | Uint8Array): ParseCallbackResult {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let json: unknown;

  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, field: '(body)', message: `expected JSON: ${reason}` };
  }

  const parsed = CallbackPayloadSchema.safeParse(json);

  if (parsed.success) {
    return { ok: true, payload: parsed.data };
  }

  const [issue] = parsed.error.issues;
  const field = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.join('.');
  return { ok: false, field, message: issue?.message ?? 'invalid callback' };
}
