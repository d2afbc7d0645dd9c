/**
 * Receiver kit for relays, exported as `lime-connect-webhook/relay`: parse and validate a
 * callback with the plugin's own payload schema, verify its Standard Webhooks signature, dedupe
 * on `webhook-id`, and count outcomes per relay and `ref`.
 */
export {
  CallbackReceiver,
  type CallbackReceiverOptions,
  type CallbackRequest,
  type CheckResult,
  type ReceiveResult,
  type RejectionReason,
} from './callback-receiver.js';
export {
  CallbackTally,
  type OutcomeCounts,
  type RefSummary,
  type RelaySummary,
  type TallySummary,
} from './callback-tally.js';
export { parseCallback, type ParseCallbackResult } from './parse-callback.js';
export {
  readHeader,
  verifySignature,
  type CallbackHeaders,
  type VerifySignatureResult,
} from './verify-signature.js';
export { DEFAULT_MAX_WEBHOOK_IDS, WebhookIdDeduper } from './webhook-id-deduper.js';
export { CallbackPayloadSchema, type CallbackPayload } from '../connect/payload-schema.js';
