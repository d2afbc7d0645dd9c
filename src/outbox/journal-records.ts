import * as z from 'zod';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '../connect/occurred-at.js';

/** Status of an event in the outbox; `retrying` is a pending event with at least one attempt. */
export type EventState = 'pending' | 'delivered' | 'dead' | 'skipped' | 'discarded';

const id = z.string().min(1).max(64);
const owner = z.string().min(1).max(64);
const sequence = z.number().int().nonnegative();
const time = z.number().int().nonnegative();
/** When the user acted: any time a four-digit year can show, 1970 and before included. */
const occurredTime = z.number().int().min(MIN_TIMESTAMP_MS).max(MAX_TIMESTAMP_MS);

/** An accepted outcome. The body is the exact JSON sent on every attempt; it contains no API key. */
export const EnqueueRecordSchema = z.strictObject({
  type: z.literal('enqueue'),
  id,
  owner,
  seq: sequence,
  relay: z.string().min(1).max(128),
  ref: z.string().max(256).optional(),
  flow: z.string().max(256).optional(),
  status: z.enum(['success', 'cancelled', 'error']),
  errorCode: z.string().max(64).optional(),
  occurredAt: occurredTime,
  queuedAt: time,
  body: z.string().min(2).max(16_384),
  state: z.enum(['pending', 'skipped']),
  reason: z.string().max(64).optional(),
  message: z.string().max(1000).optional(),
  test: z.boolean().optional(),
});

/** A lease on one event: the first unexpired claim in file order wins, across processes. */
export const ClaimRecordSchema = z.strictObject({
  type: z.literal('claim'),
  id,
  owner,
  seq: sequence,
  pid: z.number().int(),
  host: z.string().max(256),
  /** When the claim was written; a claim made after `until` of the previous one replaces it. */
  at: time,
  until: time,
});

export const AttemptSchema = z.strictObject({
  startedAt: time,
  durationMs: z.number().nonnegative(),
  url: z.string().max(2048),
  classification: z.enum(['delivered', 'retry', 'permanent', 'gone', 'redirect']),
  httpStatus: z.number().int().optional(),
  errorClass: z.string().max(64).optional(),
  errorMessage: z.string().max(1000).optional(),
  location: z.string().max(2048).optional(),
  excerpt: z.string().max(8192).optional(),
  retryAfterMs: z.number().nonnegative().optional(),
});

export type Attempt = z.output<typeof AttemptSchema>;

/** The result of one attempt, and the state it leaves the event in. Releases the claim. */
export const AttemptRecordSchema = z.strictObject({
  type: z.literal('attempt'),
  id,
  owner,
  seq: sequence,
  attempt: AttemptSchema,
  state: z.enum(['pending', 'delivered', 'dead']),
  nextAt: time.optional(),
  reason: z.string().max(1000).optional(),
});

/** A change made without an attempt: retry now, replay, discard, expiry. Releases any claim. */
export const StateRecordSchema = z.strictObject({
  type: z.literal('state'),
  id,
  owner,
  seq: sequence,
  at: time,
  state: z.enum(['pending', 'delivered', 'dead', 'skipped', 'discarded']),
  nextAt: time.optional(),
  reason: z.string().max(1000).optional(),
  /** Resets the attempt counter used for backoff, as a replay does. */
  resetBackoff: z.boolean().optional(),
});

const ClaimSchema = z.strictObject({
  owner,
  pid: z.number().int(),
  host: z.string().max(256),
  until: time,
});

/** One event's whole state, written by compaction in place of the records that built it. */
export const EventRecordSchema = z.strictObject({
  type: z.literal('event'),
  event: z.strictObject({
    id,
    relay: z.string().min(1).max(128),
    ref: z.string().max(256).optional(),
    flowId: z.string().max(256).optional(),
    status: z.enum(['success', 'cancelled', 'error']),
    errorCode: z.string().max(64).optional(),
    occurredAt: occurredTime,
    queuedAt: time,
    body: z.string().min(2).max(16_384),
    test: z.boolean().optional(),
    state: z.enum(['pending', 'delivered', 'dead', 'skipped']),
    reason: z.string().max(1000).optional(),
    message: z.string().max(1000).optional(),
    attempts: z.array(
      AttemptSchema.extend({
        state: z.enum(['pending', 'delivered', 'dead']),
        nextAt: time.optional(),
      }),
    ),
    attemptCount: z.number().int().nonnegative(),
    failures: z.number().int().nonnegative(),
    nextAt: time,
    updatedAt: time,
    claim: ClaimSchema.optional(),
  }),
});

/** The highest record sequence seen per owner, so records repeated after a compaction are skipped. */
export const MarksRecordSchema = z.strictObject({
  type: z.literal('marks'),
  owners: z.record(owner, sequence),
});

export const JournalRecordSchema = z.discriminatedUnion('type', [
  EnqueueRecordSchema,
  ClaimRecordSchema,
  AttemptRecordSchema,
  StateRecordSchema,
  EventRecordSchema,
  MarksRecordSchema,
]);

export type StoredEvent = z.output<typeof EventRecordSchema>['event'];

export type EnqueueRecord = z.output<typeof EnqueueRecordSchema>;
export type ClaimRecord = z.output<typeof ClaimRecordSchema>;
export type AttemptRecord = z.output<typeof AttemptRecordSchema>;
export type StateRecord = z.output<typeof StateRecordSchema>;
export type JournalRecord = z.output<typeof JournalRecordSchema>;
