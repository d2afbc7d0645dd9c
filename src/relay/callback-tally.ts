import { TEST_EVENT_REF } from '../connect/test-event.js';
import type { CallbackPayload } from '../connect/payload-schema.js';

/** Outcome counts of one group of callbacks, and the rates a relay reports from them. */
export interface OutcomeCounts {
  /** Callbacks counted, each `event_id` once. */
  total: number;
  success: number;
  cancelled: number;
  error: number;
  /** `success / total`; 0 when nothing was counted. */
  successRate: number;
  /** `cancelled / total`; 0 when nothing was counted. */
  cancelRate: number;
  /** Error codes by frequency, each with its share of the `error` callbacks. */
  errorCodes: { code: string; count: number; share: number }[];
}

/** Counts of one `ref` campaign; `ref` is null for links without one. */
export interface RefSummary extends OutcomeCounts {
  ref: string | null;
}

/** Counts of one relay, overall and per `ref`, refs ordered by `total` descending. */
export interface RelaySummary extends OutcomeCounts {
  relayId: string;
  refs: RefSummary[];
}

export interface TallySummary extends OutcomeCounts {
  relays: RelaySummary[];
  /** Test callbacks sent from Lime's debug panel (`ref` "lime-test-event"), not counted above. */
  testEvents: number;
}

class Counter {
  success = 0;
  cancelled = 0;
  error = 0;
  readonly errorCodes = new Map<string, number>();

  add(payload: CallbackPayload): void {
    this[payload.status] += 1;

    if (payload.status === 'error') {
      const code = payload.error_code ?? 'UNKNOWN';
      this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
    }
  }

  summarize(): OutcomeCounts {
    const total = this.success + this.cancelled + this.error;
    const errorCodes = [...this.errorCodes]
      .map(([code, count]) => ({ code, count, share: ratio(count, this.error) }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));

    return {
      total,
      success: this.success,
      cancelled: this.cancelled,
      error: this.error,
      successRate: ratio(this.success, total),
      cancelRate: ratio(this.cancelled, total),
      errorCodes,
    };
  }
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/**
 * In-memory statistics of verified, deduplicated callbacks: success, cancel and error counts,
 * success and cancel rates and error-code shares, overall, per relay and per `ref`. Record each
 * `event_id` once (CallbackReceiver does); the tally itself does not dedupe.
 */
export class CallbackTally {
  readonly #overall = new Counter();
  readonly #relays = new Map<string, { counter: Counter; refs: Map<string | null, Counter> }>();
  #testEvents = 0;

  /** Counts one callback; a test callback from the debug panel is counted apart. */
  record(payload: CallbackPayload): void {
    if (payload.ref === TEST_EVENT_REF) {
      this.#testEvents += 1;
      return;
    }

    let relay = this.#relays.get(payload.relay_id);

    if (relay === undefined) {
      relay = { counter: new Counter(), refs: new Map() };
      this.#relays.set(payload.relay_id, relay);
    }

    const ref = payload.ref ?? null;
    let refCounter = relay.refs.get(ref);

    if (refCounter === undefined) {
      refCounter = new Counter();
      relay.refs.set(ref, refCounter);
    }

    this.#overall.add(payload);
    relay.counter.add(payload);
    refCounter.add(payload);
  }

  summary(): TallySummary {
    const relays = [...this.#relays].map(([relayId, relay]) => ({
      relayId,
      ...relay.counter.summarize(),
      refs: [...relay.refs]
        .map(([ref, counter]) => ({ ref, ...counter.summarize() }))
        .sort((a, b) => b.total - a.total),
    }));

    return {
      ...this.#overall.summarize(),
      relays: relays.sort((a, b) => b.total - a.total),
      testEvents: this.#testEvents,
    };
  }
}
