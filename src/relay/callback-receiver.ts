import { Webhook } from 'standardwebhooks';
import type { CallbackPayload } from '../connect/payload-schema.js';
import { CallbackTally } from './callback-tally.js';
import { parseCallback } from './parse-callback.js';
import { readHeader, verifySignature, type CallbackHeaders } from './verify-signature.js';
import { WebhookIdDeduper } from './webhook-id-deduper.js';

export interface CallbackRequest {
  /** The raw request body, exactly as received; the signature covers these bytes. */
  body: string | Uint8Array;
  headers: CallbackHeaders;
}

/** Why a request is not a valid callback, and the status to answer it with. */
export type RejectionReason = 'missing_webhook_id' | 'signature' | 'invalid_payload';

export type CheckResult =
  | { kind: 'rejected'; status: 400 | 401; reason: RejectionReason; message: string }
  | {
      kind: 'callback';
      eventId: string;
      payload: CallbackPayload;
      /** True when this `webhook-id` was already recorded: answer 2xx, do not count it again. */
      duplicate: boolean;
    };

export type ReceiveResult =
  | Extract<CheckResult, { kind: 'rejected' }>
  | { kind: 'accepted' | 'duplicate'; status: 200; eventId: string; payload: CallbackPayload };

export interface CallbackReceiverOptions {
  /**
   * The Standard Webhooks secret (`whsec_...`) shared with the plugin's settings. With it,
   * unsigned or wrongly signed requests are rejected; without it, signatures are not checked.
   */
  secret?: string;
  deduper?: WebhookIdDeduper;
  tally?: CallbackTally;
}

/**
 * Checks, dedupes and counts callbacks from lime-connect-webhook. `check` verifies the
 * signature (when a secret is set) over the raw body, validates the body with the plugin's own
 * payload schema, requires `event_id` to equal `webhook-id`, and looks the id up; it changes no
 * state. `record` marks the id as seen and counts the outcome once. `receive` does both, for a
 * relay that answers 2xx as soon as a callback is valid.
 */
export class CallbackReceiver {
  readonly deduper: WebhookIdDeduper;
  readonly tally: CallbackTally;
  readonly #secret: string | undefined;

  constructor(options: CallbackReceiverOptions = {}) {
    this.#secret = options.secret;
    this.deduper = options.deduper ?? new WebhookIdDeduper();
    this.tally = options.tally ?? new CallbackTally();

    if (this.#secret !== undefined) {
      // Fails at once on a malformed secret instead of rejecting every request later.
      new Webhook(this.#secret);
    }
  }

  check(request: CallbackRequest): CheckResult {
    const eventId = readHeader(request.headers, 'webhook-id');

    if (eventId === undefined || eventId === '') {
      return reject(400, 'missing_webhook_id', 'missing webhook-id header');
    }

    if (this.#secret !== undefined) {
      const verified = verifySignature(this.#secret, request.body, request.headers);

      if (!verified.ok) {
        return reject(401, 'signature', `signature not verified: ${verified.message}`);
      }
    }

    const parsed = parseCallback(request.body);

    if (!parsed.ok) {
      return reject(400, 'invalid_payload', `${parsed.field}: ${parsed.message}`);
    }

    if (parsed.payload.event_id !== eventId) {
      return reject(400, 'invalid_payload', 'event_id: expected the same value as webhook-id');
    }

    return {
      kind: 'callback',
      eventId,
      payload: parsed.payload,
      duplicate: this.deduper.has(eventId),
    };
  }

  /** Records a checked callback; returns false, and counts nothing, for a duplicate id. */
  record(callback: Extract<CheckResult, { kind: 'callback' }>): boolean {
    if (!this.deduper.remember(callback.eventId)) {
      return false;
    }

    this.tally.record(callback.payload);
    return true;
  }

  receive(request: CallbackRequest): ReceiveResult {
    const checked = this.check(request);

    if (checked.kind === 'rejected') {
      return checked;
    }

    const counted = this.record(checked);
    return {
      kind: counted ? 'accepted' : 'duplicate',
      status: 200,
      eventId: checked.eventId,
      payload: checked.payload,
    };
  }
}

function reject(
  status: 400 | 401,
  reason: RejectionReason,
  message: string,
): Extract<CheckResult, { kind: 'rejected' }> {
  return { kind: 'rejected', status, reason, message };
}
