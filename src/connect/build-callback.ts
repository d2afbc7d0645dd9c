import { describeType } from '../delivery/callback-url.js';
import { formatIssue, RELAY_ID_PATTERN } from '../settings/settings-schema.js';
import { PLUGIN_VERSION } from '../version.js';
import { newEventId } from './event-id.js';
import { checkRange, formatTimestamp, readOccurredAt } from './occurred-at.js';
import {
  CallbackPayloadSchema,
  FIELD_LIMITS,
  KEY_PREFIX_LENGTH,
  toPlatform,
  type CallbackPayload,
} from './payload-schema.js';
import { checkText, firstCodePoints, type TextRules } from './text-checks.js';

export type OutcomeKind = 'confirmed' | 'cancelled' | 'failed';

export interface BuiltCallback {
  payload: CallbackPayload;
  /**
   * JSON.stringify(payload), computed once. This exact string is stored and sent on every
   * attempt.
   */
  body: string;
  eventId: string;
  relayId: string;
  ref?: string;
  flowId?: string;
  /** When the user acted, in epoch milliseconds, with the milliseconds that `timestamp` drops. */
  occurredAt: number;
}

export type BuildResult =
  { ok: true; callback: BuiltCallback } | { ok: false; field: string; message: string };

export interface BuildContext {
  /** Lime's version, sent as `client.version`. */
  appVersion: string;
  /** Host platform name, mapped by toPlatform. */
  platform: string;
  /** Clock used when the outcome has no `occurredAt`, in epoch milliseconds. */
  now: () => number;
  /** Event id source. Defaults to newEventId. */
  newEventId?: () => string;
}

type Failure = { ok: false; field: string; message: string };
type Read<T> = { ok: true; value: T } | Failure;

const STATUS_BY_KIND = {
  confirmed: 'success',
  cancelled: 'cancelled',
  failed: 'error',
} as const satisfies Record<OutcomeKind, CallbackPayload['status']>;

/** Error codes as Lime may send them, before they are upper-cased. */
const RAW_ERROR_CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Validates an outcome passed by the host and builds the callback for it. Never throws.
 *
 * The outcome is untrusted: any value may arrive. Rules beyond the types of ConnectOutcome:
 * - Only own properties are read, so a value inherited from a polluted Object.prototype is
 *   never taken as input. Unknown properties are ignored, so a newer Lime can add fields.
 * - Strings must be well-formed UTF-16 without C0 control characters, except that
 *   `error.message` may contain tab, line feed and carriage return. Lengths follow
 *   FIELD_LIMITS, in code points, and a value over its limit is rejected, never truncated.
 * - `name`, `ref`, `flowId` and `occurredAt` that are undefined, null or "" count as absent.
 * - `key` contains no whitespace. Only its first 7 code points are kept, and `relay`, `ref`,
 *   `flowId` and `error.code` must not contain the whole key.
 * - `error` is required for 'failed'. For 'confirmed' and 'cancelled' it is ignored without
 *   validation, because those payloads carry no error fields and the outcome must not be lost
 *   over a field that is never sent.
 * - `error.code` must match ^[A-Za-z][A-Za-z0-9_]*$ and is sent upper-cased. Every occurrence
 *   of the whole key in `error.message`, also percent-encoded or JSON-escaped, is replaced by
 *   the key prefix and "…" before its 500-character limit is checked.
 * - `occurredAt` is an RFC 3339 string with a time zone or a Date. `timestamp` is that time
 *   in UTC with the milliseconds dropped.
 *
 * A failure names the field, and its message starts with that name: ConnectOutcome's names
 * (`ref`, `error.code`), `kind` or `outcome` for the arguments themselves,
 * `context.appVersion`, `context.now` or `context.newEventId` when the caller's context is at
 * fault, or a payload field such as `event_id` that fails CallbackPayloadSchema. No message
 * contains the key or quotes another input value.
 */
export function buildCallback(
  kind: OutcomeKind,
  outcome: unknown,
  context: BuildContext,
): BuildResult {
  try {
    return build(kind, outcome, context);
  } catch (error) {
    // Reached only when a getter or Proxy trap of the outcome throws. The thrown message is
    // left out because it may quote the input, including the key.
    return fail(
      'outcome',
      `expected plain data, received an object whose properties threw ${errorName(error)}`,
    );
  }
}

function build(kind: OutcomeKind, outcome: unknown, context: BuildContext): BuildResult {
  if (!Object.hasOwn(STATUS_BY_KIND, kind)) {
    return fail('kind', 'expected "confirmed", "cancelled" or "failed"');
  }

  if (!isRecord(outcome)) {
    return fail('outcome', `expected an object, received ${describeType(outcome)}`);
  }

  const relay = readRequiredText(outcome, 'relay', { max: FIELD_LIMITS.relay });

  if (!relay.ok) {
    return relay;
  }

  if (!RELAY_ID_PATTERN.test(relay.value)) {
    return fail(
      'relay',
      'expected a relay id of letters, digits, ".", "_" and "-", starting with a letter or digit',
    );
  }

  const key = readKey(outcome);

  if (!key.ok) {
    return key;
  }

  const keyPrefix = firstCodePoints(key.value, KEY_PREFIX_LENGTH);
  const name = readOptionalText(outcome, 'name', { max: FIELD_LIMITS.name });

  if (!name.ok) {
    return name;
  }

  const ref = readOptionalText(outcome, 'ref', { max: FIELD_LIMITS.ref, rejectBidiControls: true });

  if (!ref.ok) {
    return ref;
  }

  const flowId = readOptionalText(outcome, 'flowId', { max: FIELD_LIMITS.flowId });

  if (!flowId.ok) {
    return flowId;
  }

  const error = kind === 'failed' ? readError(outcome, key.value, keyPrefix) : undefined;

  if (error !== undefined && !error.ok) {
    return error;
  }

  const leak = findKeyIn(key.value, [
    ['relay', relay.value],
    ['ref', ref.value],
    ['flowId', flowId.value],
    ['error.code', error?.value.code],
  ]);

  if (leak !== undefined) {
    return fail(leak, 'expected no copy of the key, received a value that contains it');
  }

  const occurredAt = readTime(outcome, context);

  if (!occurredAt.ok) {
    return occurredAt;
  }

  const eventId = readEventId(context);

  if (!eventId.ok) {
    return eventId;
  }

  if (typeof context.appVersion !== 'string') {
    return fail(
      'context.appVersion',
      `expected a string, received ${describeType(context.appVersion)}`,
    );
  }

  // Optional keys are added only with a value, because zod keeps a key whose value is
  // undefined and the payload must not carry `"ref": undefined` into storage.
  const candidate: Record<string, unknown> = {
    event: 'connect',
    status: STATUS_BY_KIND[kind],
    relay_id: relay.value,
  };

  if (ref.value !== undefined) {
    candidate.ref = ref.value;
    candidate.ref_code = ref.value;
  }

  candidate.timestamp = formatTimestamp(occurredAt.value);
  candidate.event_id = eventId.value;
  candidate.key_prefix = keyPrefix;
  candidate.client = {
    version: context.appVersion,
    platform: toPlatform(context.platform),
    plugin_version: PLUGIN_VERSION,
  };

  if (error !== undefined) {
    candidate.error_code = error.value.code;
    candidate.error_message = error.value.message;
  }

  const parsed = CallbackPayloadSchema.safeParse(candidate);

  if (!parsed.success) {
    const issue = formatIssue(parsed.error);
    const field = issue.field === 'client.version' ? 'context.appVersion' : issue.field;
    return fail(field, issue.message.slice(issue.field.length + 2));
  }

  const body = JSON.stringify(parsed.data);

  // JSON.stringify escapes '"' and '\', so a key containing them appears escaped in the body.
  if (body.includes(key.value) || body.includes(JSON.stringify(key.value).slice(1, -1))) {
    return fail(
      'key',
      'expected the payload to contain only the key prefix, received a payload with the whole key',
    );
  }

  const callback: BuiltCallback = {
    payload: parsed.data,
    body,
    eventId: eventId.value,
    relayId: relay.value,
    occurredAt: occurredAt.value,
  };

  if (ref.value !== undefined) {
    callback.ref = ref.value;
  }

  if (flowId.value !== undefined) {
    callback.flowId = flowId.value;
  }

  return { ok: true, callback };
}

function readKey(outcome: Record<string, unknown>): Read<string> {
  const key = readRequiredText(outcome, 'key', FIELD_LIMITS.key);

  if (!key.ok) {
    return key;
  }

  if (/\s/u.test(key.value)) {
    return fail('key', 'expected no whitespace, received a key that contains whitespace');
  }

  return key;
}

function readError(
  outcome: Record<string, unknown>,
  key: string,
  keyPrefix: string,
): Read<{ code: string; message: string }> {
  const error = readOwn(outcome, 'error');

  if (!isRecord(error)) {
    return fail(
      'error',
      `expected { code, message } with a failed outcome, received ${describeType(error)}`,
    );
  }

  const code = readRequiredText(error, 'code', { max: FIELD_LIMITS.errorCode }, 'error.code');

  if (!code.ok) {
    return code;
  }

  if (!RAW_ERROR_CODE_PATTERN.test(code.value)) {
    return fail('error.code', 'expected letters, digits and "_", starting with a letter');
  }

  const message = readOwn(error, 'message');

  if (typeof message !== 'string') {
    return fail('error.message', `expected a string, received ${describeType(message)}`);
  }

  // The key is redacted before the length check, so a message that quotes a long key still fits.
  // Also the spellings an error text may carry it in: percent-encoded (from a URL) and
  // JSON-escaped (from a serialised request).
  const spellings = new Set([key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1)]);
  let redacted = message;

  for (const spelling of spellings) {
    redacted = redacted.split(spelling).join(`${keyPrefix}…`);
  }

  const problem = checkText(redacted, { max: FIELD_LIMITS.errorMessage, allowLineBreaks: true });

  if (problem !== undefined) {
    return fail('error.message', problem);
  }

  return { ok: true, value: { code: code.value.toUpperCase(), message: redacted } };
}

function readTime(outcome: Record<string, unknown>, context: BuildContext): Read<number> {
  const occurredAt = readOccurredAt(emptyToUndefined(readOwn(outcome, 'occurredAt')));

  if (!occurredAt.ok) {
    return fail('occurredAt', occurredAt.message);
  }

  if (occurredAt.ms !== undefined) {
    return { ok: true, value: occurredAt.ms };
  }

  let now: unknown;

  try {
    now = context.now();
  } catch (error) {
    return fail(
      'context.now',
      `expected epoch milliseconds, but the clock threw ${errorName(error)}`,
    );
  }

  const checked = typeof now === 'number' ? checkRange(now) : undefined;

  if (checked === undefined || !checked.ok) {
    return fail('context.now', 'expected epoch milliseconds between the years 0000 and 9999');
  }

  return { ok: true, value: checked.ms };
}

function readEventId(context: BuildContext): Read<string> {
  let eventId: unknown;

  try {
    eventId = (context.newEventId ?? newEventId)();
  } catch (error) {
    return fail(
      'context.newEventId',
      `expected an event id, but the generator threw ${errorName(error)}`,
    );
  }

  if (typeof eventId !== 'string') {
    return fail('context.newEventId', `expected a string, received ${describeType(eventId)}`);
  }

  return { ok: true, value: eventId };
}

function readRequiredText(
  record: Record<string, unknown>,
  name: string,
  rules: TextRules,
  field = name,
): Read<string> {
  const value = readOwn(record, name);

  if (typeof value !== 'string') {
    return fail(field, `expected a string, received ${describeType(value)}`);
  }

  if (value === '') {
    return fail(field, 'expected a non-empty string, received an empty string');
  }

  const problem = checkText(value, rules);
  return problem === undefined ? { ok: true, value } : fail(field, problem);
}

function readOptionalText(
  record: Record<string, unknown>,
  name: string,
  rules: TextRules,
): Read<string | undefined> {
  const value = emptyToUndefined(readOwn(record, name));

  if (value === undefined) {
    return { ok: true, value: undefined };
  }

  return readRequiredText(record, name, rules);
}

/** Returns the name of the first field whose value contains the whole key. */
function findKeyIn(key: string, fields: [string, string | undefined][]): string | undefined {
  return fields.find(([, value]) => value?.includes(key) === true)?.[0];
}

function readOwn(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function emptyToUndefined(value: unknown): unknown {
  return value === null || value === '' ? undefined : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : describeType(error);
}

function fail(field: string, detail: string): Failure {
  return { ok: false, field, message: `${field}: ${detail}` };
}
