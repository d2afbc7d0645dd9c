import type { Attempt } from './journal-records.js';
import type { Outbox } from './outbox.js';

/** Delivered attempts buffered before one journal write. */
const RECORD_BATCH = 16;

/** Age of the oldest buffered record after which the buffer is written at the next delivery. */
const MAX_BUFFER_MS = 20;

/** Writes in flight before `add` waits for one of them. */
const MAX_WRITES = 4;

/**
 * Records of delivered attempts for one relay, written in batches while the lane goes on
 * sending. A delivered record is not synced (see `Outbox.recordAttempt`), so delaying it only
 * widens the window in which a crash leads to one more attempt of the same event id, which
 * receivers dedupe. Events stay `pending` in the outbox until their record is read back, so the
 * lane calls `has(id)` to avoid sending them again.
 */
export class DeliveredRecords {
  private readonly outbox: Outbox;
  private readonly now: () => number;
  private buffer: { id: string; attempt: Attempt }[] = [];
  private bufferedSince = 0;
  private readonly ids = new Set<string>();
  private readonly writes = new Set<Promise<void>>();
  private failure: unknown;

  constructor(outbox: Outbox, now: () => number) {
    this.outbox = outbox;
    this.now = now;
  }

  get size(): number {
    return this.ids.size;
  }

  /** True while the event's delivered record is buffered or being written. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Buffers one delivered attempt; writes the buffer once it is full or old enough. */
  async add(id: string, attempt: Attempt): Promise<void> {
    if (this.buffer.length === 0) {
      this.bufferedSince = this.now();
    }

    this.ids.add(id);
    this.buffer.push({ id, attempt });

    if (this.buffer.length >= RECORD_BATCH || this.now() - this.bufferedSince >= MAX_BUFFER_MS) {
      this.flush();
    }

    if (this.writes.size >= MAX_WRITES) {
      await Promise.race(this.writes);
    }
  }

  /** Starts writing every buffered record. */
  flush(): void {
    const batch = this.buffer;
    this.buffer = [];

    if (batch.length === 0) {
      return;
    }

    // Appended in one tick, so the journal's group commit writes the batch with one `write()`
    // and the outbox reads it back once.
    const write = Promise.all(
      batch.map(({ id, attempt }) =>
        this.outbox.recordAttempt(id, attempt, { state: 'delivered' }),
      ),
    ).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = write.finally(() => {
      this.writes.delete(tracked);

      for (const { id } of batch) {
        this.ids.delete(id);
      }
    });
    this.writes.add(tracked);
  }

  /** Writes what is buffered and waits for every write; rejects with the first write error. */
  async settle(): Promise<void> {
    this.flush();
    await Promise.all(this.writes);
    const failure = this.failure;
    this.failure = undefined;

    if (failure !== undefined) {
      throw failure;
    }
  }
}
