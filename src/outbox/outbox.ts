import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JournalFile } from './journal-file.js';
import {
  EnqueueRecordSchema,
  AttemptRecordSchema,
  JournalRecordSchema,
  type Attempt,
  type AttemptRecord,
  type ClaimRecord,
  type EnqueueRecord,
  type EventState,
  type JournalRecord,
  type StateRecord,
  type StoredEvent,
} from './journal-records.js';
import { acquireFileLock } from './file-lock.js';

export type { EventState } from './journal-records.js';

export interface AttemptEntry extends Attempt {
  state: 'pending' | 'delivered' | 'dead';
  nextAt?: number;
}

export interface Claim {
  owner: string;
  pid: number;
  host: string;
  until: number;
}

/** One outcome in the outbox, in the state every process sharing the data folder reads from the journal. */
export interface OutboxEvent {
  id: string;
  relay: string;
  ref?: string;
  flowId?: string;
  status: 'success' | 'cancelled' | 'error';
  errorCode?: string;
  occurredAt: number;
  queuedAt: number;
  /** The exact JSON body sent and signed on every attempt. */
  body: string;
  test?: boolean;
  state: Exclude<EventState, 'discarded'>;
  reason?: string;
  message?: string;
  /** The most recent attempts, oldest first; at most `MAX_ATTEMPTS_KEPT`. */
  attempts: AttemptEntry[];
  attemptCount: number;
  /** Failed attempts since the last success or replay; drives the backoff. */
  failures: number;
  nextAt: number;
  updatedAt: number;
  claim?: Claim;
}

export interface NewEvent {
  id: string;
  relay: string;
  ref?: string;
  flowId?: string;
  status: 'success' | 'cancelled' | 'error';
  errorCode?: string;
  occurredAt: number;
  body: string;
  test?: boolean;
  state: 'pending' | 'skipped';
  reason?: string;
  message?: string;
}

export interface OutboxLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
}

export interface OutboxOptions {
  now?: () => number;
  logger?: OutboxLogger;
  retention?: Partial<RetentionLimits>;
}

/** How long and how many finished events stay in the log. */
export interface RetentionLimits {
  deliveredMaxAgeMs: number;
  deliveredMaxCount: number;
  finishedMaxAgeMs: number;
  finishedMaxCount: number;
}

export const DEFAULT_RETENTION: RetentionLimits = {
  deliveredMaxAgeMs: 7 * 24 * 3_600_000,
  deliveredMaxCount: 1000,
  finishedMaxAgeMs: 30 * 24 * 3_600_000,
  finishedMaxCount: 5000,
};

export const MAX_ATTEMPTS_KEPT = 50;

/** Compaction starts once the journal contains this many records more than it has events. */
const COMPACTION_MIN_RECORDS = 4000;

const HOST_NAME = os.hostname();

/** Owners activated in this process and not yet closed; a claim by any other is stale. */
const liveOwners = new Set<string>();

/**
 * The durable outbox: an in-memory view of the shared journal. Every change is appended to the
 * journal first and applied when read back, in file order, so that all processes sharing the
 * folder reach the same state and the first claim in the file wins.
 */
export class Outbox {
  readonly directory: string;
  readonly owner: string;
  private readonly journal: JournalFile;
  private readonly now: () => number;
  private readonly logger: OutboxLogger | undefined;
  private readonly retention: RetentionLimits;
  private readonly eventsById = new Map<string, OutboxEvent>();
  private readonly eventIdByFlow = new Map<string, string>();
  private readonly pendingIds = new Set<string>();
  private readonly ownerMarks = new Map<string, number>();
  private readonly claimWinners = new Map<string, boolean>();
  private sequence = 0;
  private recordCount = 0;
  private compactAfterRecords = COMPACTION_MIN_RECORDS;
  private compacting: Promise<void> | undefined;
  /** Set once `open` finished; before that, `open` itself decides whether to compact. */
  private opened = false;
  private exclusive: Promise<void> = Promise.resolve();
  private queuedRefresh: Promise<void> | undefined;
  private closed = false;
  /** Called after records from the journal changed any event. */
  onChange: ((ids: string[]) => void) | undefined;

  private constructor(directory: string, owner: string, options: OutboxOptions) {
    this.directory = directory;
    this.owner = owner;
    this.journal = new JournalFile(path.join(directory, 'journal.log'));
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
  }

  /** Opens (or creates) the outbox in `directory`, moving unreadable records aside. */
  static async open(
    directory: string,
    owner: string,
    options: OutboxOptions = {},
  ): Promise<Outbox> {
    const outbox = new Outbox(directory, owner, options);
    liveOwners.add(owner);

    try {
      await outbox.journal.open();
      const unreadable = await outbox.load();

      if (unreadable.length > 0 || outbox.needsCompaction()) {
        await outbox.compact(unreadable);
      }

      outbox.opened = true;
    } catch (error) {
      liveOwners.delete(owner);
      await outbox.journal.close().catch(() => undefined);
      throw error;
    }

    return outbox;
  }

  get(id: string): OutboxEvent | undefined {
    return this.eventsById.get(id);
  }

  /** Finds the event already queued for this dialog and outcome status, if any. */
  findByFlow(flowId: string, status: OutboxEvent['status']): OutboxEvent | undefined {
    const id = this.eventIdByFlow.get(flowKey(flowId, status));
    return id === undefined ? undefined : this.eventsById.get(id);
  }

  events(): IterableIterator<OutboxEvent> {
    return this.eventsById.values();
  }

  get size(): number {
    return this.eventsById.size;
  }

  /** Number of pending events, kept up to date record by record. */
  get pendingCount(): number {
    return this.pendingIds.size;
  }

  /** Appends a new event and resolves once it is on disk (fdatasync). */
  async enqueue(event: NewEvent): Promise<void> {
    const record: EnqueueRecord = {
      type: 'enqueue',
      id: event.id,
      owner: this.owner,
      seq: this.nextSequence(),
      relay: event.relay,
      ref: event.ref,
      flow: event.flowId,
      status: event.status,
      errorCode: event.errorCode,
      occurredAt: event.occurredAt,
      queuedAt: this.now(),
      body: event.body,
      state: event.state,
      reason: event.reason,
      message: event.message,
      test: event.test,
    };
    // A record that fails the schema when read back would vanish after being accepted.
    const checked = EnqueueRecordSchema.safeParse(record);

    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new Error(
        `event ${event.id} cannot be stored: field "${issue?.path.join('.') ?? ''}" ` +
          `${issue?.message ?? 'is invalid'}`,
      );
    }

    // The record is read back while its fdatasync runs, so the caller waits for the disk once.
    let markWritten: () => void = () => undefined;
    const written = new Promise<void>((resolve) => (markWritten = resolve));
    const stored = this.journal.append(JSON.stringify(record), true, markWritten);
    await Promise.race([written, stored]);
    await Promise.all([stored, this.refresh()]);
  }

  /**
   * Claims an event for one attempt until `leaseMs` from now. Resolves true only when this
   * process's claim is the first live one in the journal, so two processes never send one
   * event at the same time.
   */
  async claim(id: string, leaseMs: number): Promise<boolean> {
    return (await this.claimMany([id], leaseMs)).has(id);
  }

  /**
   * Claims several events with one journal write and one read-back, for draining a backlog.
   * Resolves with the ids this process won; the others are claimed by another process or no
   * longer pending.
   */
  async claimMany(ids: readonly string[], leaseMs: number): Promise<Set<string>> {
    const at = this.now();
    const claims: { id: string; key: string }[] = [];
    const writes: Promise<void>[] = [];

    for (const id of ids) {
      const event = this.eventsById.get(id);

      if (event === undefined || event.state !== 'pending' || this.isClaimedByOther(event)) {
        continue;
      }

      const record: ClaimRecord = {
        type: 'claim',
        id,
        owner: this.owner,
        seq: this.nextSequence(),
        pid: process.pid,
        host: HOST_NAME,
        at,
        until: at + leaseMs,
      };
      claims.push({ id, key: `${record.owner}:${record.seq}` });
      // Queued together, so the group commit writes them in one `write()`. Not synced, because
      // other processes read the same page cache, and after a crash the claim's owner is gone,
      // so the claim is void anyway.
      writes.push(this.journal.append(JSON.stringify(record), false));
    }

    await Promise.all(writes);
    await this.refresh();
    const won = new Set<string>();

    for (const { id, key } of claims) {
      if (this.claimWinners.get(key) === true) {
        won.add(id);
      }

      this.claimWinners.delete(key);
    }

    return won;
  }

  /**
   * Records an attempt's result and the state it leaves the event in. Only a `dead` result is
   * synced. Losing a `pending` or `delivered` record in a power failure means one more attempt
   * of the same event id, which receivers dedupe. A process crash loses nothing, because the
   * write is in the page cache. Skipping the sync keeps a backlog drain at network speed.
   */
  async recordAttempt(
    id: string,
    attempt: Attempt,
    outcome: { state: 'pending' | 'delivered' | 'dead'; nextAt?: number; reason?: string },
  ): Promise<void> {
    let record: AttemptRecord = {
      type: 'attempt',
      id,
      owner: this.owner,
      seq: this.nextSequence(),
      attempt,
      state: outcome.state,
      nextAt: outcome.nextAt,
      reason: outcome.reason,
    };

    // A record the journal cannot read back would leave the event claimed and sent again at
    // once, so texts that fail the schema are dropped and the outcome of the attempt is kept.
    if (!AttemptRecordSchema.safeParse(record).success) {
      const { errorMessage, location, excerpt, ...essentials } = attempt;
      this.logger?.warn('attempt details did not fit the journal; kept without them', {
        eventId: id,
        dropped: {
          errorMessage: errorMessage?.length,
          location: location?.length,
          excerpt: excerpt?.length,
        },
      });
      record = {
        ...record,
        attempt: { ...essentials, url: essentials.url.slice(0, 2048) },
        reason: outcome.reason?.slice(0, 1000),
      };
    }

    await this.journal.append(JSON.stringify(record), outcome.state === 'dead');
    await this.refresh();
  }

  /** Changes an event's state by hand or by policy (retry now, replay, discard, expiry). */
  async setState(
    id: string,
    state: StateRecord['state'],
    options: { nextAt?: number; reason?: string; resetBackoff?: boolean } = {},
  ): Promise<void> {
    const record: StateRecord = {
      type: 'state',
      id,
      owner: this.owner,
      seq: this.nextSequence(),
      at: this.now(),
      state,
      nextAt: options.nextAt,
      reason: options.reason,
      resetBackoff: options.resetBackoff,
    };

    await this.journal.append(JSON.stringify(record), true);
    await this.refresh();
  }

  /**
   * Reads and applies what any process appended since the last read. Callers that arrive while
   * a read is queued and not yet started share it, because it starts after their writes. A
   * burst of enqueues then costs a few reads instead of one each.
   */
  async refresh(): Promise<void> {
    if (this.queuedRefresh !== undefined) {
      return this.queuedRefresh;
    }

    const refresh = this.runExclusive(async () => {
      this.queuedRefresh = undefined;
      await this.readAndApply();
    });
    this.queuedRefresh = refresh;
    return refresh;
  }

  /** True when the event has a claim by another owner that is still live. */
  isClaimedByOther(event: OutboxEvent): boolean {
    const claim = event.claim;
    return claim !== undefined && claim.owner !== this.owner && this.claimIsLive(claim, this.now());
  }

  /**
   * True once the journal has grown to twice its size after the last compaction (and past
   * `COMPACTION_MIN_RECORDS`) and contains at least half again as many records as events, so
   * the journal stays within about twice what it must keep, each record's share of the work
   * stays constant, and a journal of only pending events is not rewritten for nothing.
   */
  needsCompaction(): boolean {
    return (
      this.recordCount > this.compactAfterRecords &&
      this.recordCount > 1.5 * (this.eventsById.size + 1)
    );
  }

  /**
   * Rewrites the journal with one record per retained event, dropping finished events past
   * the retention limits. Unreadable lines are copied aside first, with their reasons, and the
   * old journal with them, so that nothing is lost by replacing the file.
   */
  async compact(unreadable: UnreadableLine[] = []): Promise<void> {
    const lock = await acquireFileLock(path.join(this.directory, 'compact.lock'));

    if (lock === undefined) {
      return;
    }

    try {
      await this.runExclusive(async () => {
        await this.readAndApply();

        if (unreadable.length > 0) {
          await this.quarantine(unreadable);
        }

        this.applyRetention();
        const records = this.snapshotRecords();
        await this.journal.replaceWith(records, this.journal.size);
        await this.readAndApply();
        this.compactAfterRecords = Math.max(COMPACTION_MIN_RECORDS, 2 * this.recordCount + 2000);
      });
    } finally {
      await lock.release();
    }
  }

  /**
   * Starts a compaction in the background when the journal has grown enough and none is
   * running; errors are logged. The runtime calls it when no attempt is in flight, so a
   * compaction never reloads events under a delivery in progress in this process.
   */
  compactIfNeeded(): void {
    if (this.compacting !== undefined || this.closed || !this.opened || !this.needsCompaction()) {
      return;
    }

    this.compacting = this.compact()
      .catch((error: unknown) => {
        // The old journal stays in place, complete, so nothing is lost; the next growth retries.
        this.logger?.warn('outbox compaction failed; the journal keeps its records', {
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        this.compacting = undefined;
      });
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }

    this.closed = true;
    await this.compacting;
    await this.exclusive;
    await this.journal.close();
    liveOwners.delete(this.owner);
  }

  private async load(): Promise<UnreadableLine[]> {
    const unreadable = await this.runExclusive(() => this.readAndApply());
    let torn = await this.journal.readUnterminatedTail();

    if (torn !== undefined) {
      // Another process may be in the middle of writing this line; a torn line stays torn.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await this.runExclusive(() => this.readAndApply());
      torn = await this.journal.readUnterminatedTail();
    }

    if (torn !== undefined) {
      unreadable.push({
        offset: -1,
        text: torn,
        reason: 'record cut short by a crash during a write',
      });
    }

    return unreadable;
  }

  private async readAndApply(): Promise<UnreadableLine[]> {
    const { lines, replaced } = await this.journal.readNew();
    const unreadable: UnreadableLine[] = [];
    const changed = new Set<string>();

    if (replaced) {
      this.reset();
    }

    for (const line of lines) {
      const record = parseRecord(line.text);

      if (typeof record === 'string') {
        unreadable.push({ offset: line.offset, text: line.text, reason: record });
        continue;
      }

      const id = this.apply(record);
      this.recordCount += 1;

      if (id !== undefined) {
        changed.add(id);

        if (this.eventsById.get(id)?.state === 'pending') {
          this.pendingIds.add(id);
        } else {
          this.pendingIds.delete(id);
        }
      }
    }

    if (unreadable.length > 0) {
      this.logger?.warn(
        'outbox journal has unreadable records; they are skipped and moved aside on compaction',
        {
          count: unreadable.length,
          firstReason: unreadable[0]?.reason,
        },
      );
    }

    if (changed.size > 0) {
      this.onChange?.([...changed]);
    }

    return unreadable;
  }

  private reset(): void {
    this.eventsById.clear();
    this.eventIdByFlow.clear();
    this.pendingIds.clear();
    this.ownerMarks.clear();
    this.recordCount = 0;
  }

  /** Applies one record; returns the id of the event it changed, if any. */
  private apply(record: JournalRecord): string | undefined {
    if (record.type === 'marks') {
      for (const [owner, sequence] of Object.entries(record.owners)) {
        this.ownerMarks.set(owner, Math.max(sequence, this.ownerMarks.get(owner) ?? -1));
      }

      return undefined;
    }

    if (record.type === 'event') {
      this.addEvent({ ...record.event, attempts: [...record.event.attempts] });
      return record.event.id;
    }

    // A record repeated after a compaction swap has a sequence already applied.
    const mark = this.ownerMarks.get(record.owner) ?? -1;

    if (record.seq <= mark) {
      return undefined;
    }

    this.ownerMarks.set(record.owner, record.seq);

    switch (record.type) {
      case 'enqueue':
        return this.applyEnqueue(record);
      case 'claim':
        return this.applyClaim(record);
      case 'attempt':
        return this.applyAttempt(record);
      case 'state':
        return this.applyState(record);
    }
  }

  private applyEnqueue(record: EnqueueRecord): string | undefined {
    if (this.eventsById.has(record.id)) {
      return undefined;
    }

    this.addEvent({
      id: record.id,
      relay: record.relay,
      ref: record.ref,
      flowId: record.flow,
      status: record.status,
      errorCode: record.errorCode,
      occurredAt: record.occurredAt,
      queuedAt: record.queuedAt,
      body: record.body,
      test: record.test,
      state: record.state,
      reason: record.reason,
      message: record.message,
      attempts: [],
      attemptCount: 0,
      failures: 0,
      nextAt: record.queuedAt,
      updatedAt: record.queuedAt,
    });
    return record.id;
  }

  private applyClaim(record: ClaimRecord): string | undefined {
    const event = this.eventsById.get(record.id);
    const key = `${record.owner}:${record.seq}`;
    const current = event?.claim;
    const blocked =
      current !== undefined &&
      current.owner !== record.owner &&
      record.at < current.until &&
      this.ownerIsAlive(current);

    if (event === undefined || event.state !== 'pending' || blocked) {
      if (record.owner === this.owner) {
        this.claimWinners.set(key, false);
      }

      return undefined;
    }

    event.claim = { owner: record.owner, pid: record.pid, host: record.host, until: record.until };

    if (record.owner === this.owner) {
      this.claimWinners.set(key, true);
    }

    return event.id;
  }

  private applyAttempt(record: AttemptRecord): string | undefined {
    const event = this.eventsById.get(record.id);

    if (event === undefined) {
      return undefined;
    }

    event.attempts.push({ ...record.attempt, state: record.state, nextAt: record.nextAt });

    if (event.attempts.length > MAX_ATTEMPTS_KEPT) {
      event.attempts.splice(0, event.attempts.length - MAX_ATTEMPTS_KEPT);
    }

    event.attemptCount += 1;
    event.failures = record.state === 'delivered' ? 0 : event.failures + 1;
    event.state = record.state;
    event.reason = record.reason;
    event.nextAt = record.nextAt ?? event.nextAt;
    event.updatedAt = record.attempt.startedAt + Math.round(record.attempt.durationMs);

    if (event.claim?.owner === record.owner) {
      event.claim = undefined;
    }

    return event.id;
  }

  private applyState(record: StateRecord): string | undefined {
    const event = this.eventsById.get(record.id);

    if (event === undefined) {
      return undefined;
    }

    if (record.state === 'discarded') {
      this.eventsById.delete(event.id);

      if (event.flowId !== undefined) {
        this.eventIdByFlow.delete(flowKey(event.flowId, event.status));
      }

      return event.id;
    }

    event.state = record.state;
    event.reason = record.reason;
    event.nextAt = record.nextAt ?? record.at;
    event.updatedAt = record.at;

    if (record.resetBackoff === true) {
      event.failures = 0;
    }

    if (event.claim?.owner === record.owner || record.state !== 'pending') {
      event.claim = undefined;
    }

    return event.id;
  }

  private addEvent(event: OutboxEvent): void {
    this.eventsById.set(event.id, event);

    if (event.flowId !== undefined) {
      this.eventIdByFlow.set(flowKey(event.flowId, event.status), event.id);
    }
  }

  private claimIsLive(claim: Claim, now: number): boolean {
    return now < claim.until && this.ownerIsAlive(claim);
  }

  /** A claim whose process has exited is void: its attempt was cut short and must be retried. */
  private ownerIsAlive(claim: Claim): boolean {
    if (claim.host !== HOST_NAME) {
      return true;
    }

    if (claim.pid === process.pid) {
      return liveOwners.has(claim.owner);
    }

    try {
      process.kill(claim.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  private applyRetention(): void {
    const now = this.now();
    const delivered: OutboxEvent[] = [];
    const finished: OutboxEvent[] = [];

    for (const event of this.eventsById.values()) {
      if (event.state === 'delivered') {
        delivered.push(event);
      } else if (event.state === 'dead' || event.state === 'skipped') {
        finished.push(event);
      }
    }

    this.dropOldest(
      delivered,
      now - this.retention.deliveredMaxAgeMs,
      this.retention.deliveredMaxCount,
    );
    this.dropOldest(
      finished,
      now - this.retention.finishedMaxAgeMs,
      this.retention.finishedMaxCount,
    );
  }

  private dropOldest(events: OutboxEvent[], oldestKept: number, maxCount: number): void {
    events.sort((left, right) => right.updatedAt - left.updatedAt);

    events.forEach((event, index) => {
      if (index >= maxCount || event.updatedAt < oldestKept) {
        this.eventsById.delete(event.id);

        if (event.flowId !== undefined) {
          this.eventIdByFlow.delete(flowKey(event.flowId, event.status));
        }
      }
    });
  }

  private snapshotRecords(): string[] {
    const records: string[] = [
      JSON.stringify({ type: 'marks', owners: Object.fromEntries(this.ownerMarks) }),
    ];
    const events = [...this.eventsById.values()].sort(
      (left, right) => left.queuedAt - right.queuedAt,
    );

    for (const event of events) {
      const stored: StoredEvent = { ...event };
      records.push(JSON.stringify({ type: 'event', event: stored }));
    }

    return records;
  }

  private async quarantine(unreadable: UnreadableLine[]): Promise<void> {
    const folder = path.join(this.directory, 'quarantine');
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    await fs.mkdir(folder, { recursive: true });
    await fs.copyFile(this.journal.filePath, path.join(folder, `journal-${stamp}.log`));
    const report = unreadable.map((line) => ({
      offset: line.offset,
      reason: line.reason,
      text: line.text.slice(0, 4096),
    }));
    await fs.writeFile(
      path.join(folder, `journal-${stamp}.unreadable.json`),
      JSON.stringify(report, null, 2),
      { mode: 0o600 },
    );
    this.logger?.warn('moved unreadable outbox records aside; every readable event is kept', {
      count: unreadable.length,
      folder,
      reasons: [...new Set(unreadable.map((line) => line.reason))].slice(0, 5),
    });
  }

  private nextSequence(): number {
    this.sequence += 1;
    return this.sequence;
  }

  /** Runs reads and compactions one at a time within this process. */
  private runExclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.exclusive.then(task);
    this.exclusive = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export interface UnreadableLine {
  offset: number;
  text: string;
  reason: string;
}

function flowKey(flowId: string, status: OutboxEvent['status']): string {
  return `${status}\u0000${flowId}`;
}

function parseRecord(text: string): JournalRecord | string {
  let value: unknown;

  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }

  const result = JournalRecordSchema.safeParse(value);

  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    return `record does not match the journal schema at "${field}": ${issue?.message ?? 'invalid'}`;
  }

  return result.data;
}
