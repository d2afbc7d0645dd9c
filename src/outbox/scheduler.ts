import { setMaxListeners } from 'node:events';
import type { AttemptResult, SendRequest } from '../delivery/sender.js';
import { backoffDelay, type RetryTiming } from '../delivery/retry-policy.js';
import { redactUrl } from '../delivery/callback-url.js';
import { keyPrefixOf, redactKeyLike } from '../connect/redact-key.js';
import type { CallbackTarget } from '../settings/callback-target.js';
import { DeliveredRecords } from './delivered-records.js';
import type { Attempt } from './journal-records.js';
import type { Outbox, OutboxEvent } from './outbox.js';

export interface SchedulerLogger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface SchedulerOptions {
  outbox: Outbox;
  send(request: SendRequest, signal: AbortSignal): Promise<AttemptResult>;
  resolveTarget(relayId: string): CallbackTarget;
  retryTiming(): RetryTiming & { maxAgeMs: number };
  /** Lease of one claim; longer than the attempt deadline, so a live claim is never overtaken. */
  leaseMs(): number;
  /** Called on `410 Gone`: the relay is paused until the user resumes it. */
  onRelayGone(relayId: string): void;
  logger: SchedulerLogger;
  now?: () => number;
  random?: () => number;
  /** Called when no event is pending and no attempt runs, to release idle connections. */
  onIdle?(): void;
  /**
   * Called when no attempt runs, though events may wait for a retry or a paused relay: a time
   * to compact the journal without reloading events under a delivery.
   */
  onQuiet?(): void;
}

/** Delivery state of one relay's endpoint; events of one relay are sent one at a time. */
interface Lane {
  relay: string;
  /** Pending event ids in queue order. */
  pending: Set<string>;
  running: boolean;
  /** While the endpoint fails, nothing is sent before this time; then one event probes it. */
  blockedUntil: number;
  consecutiveFailures: number;
  /** Set by the first success after failures: the rest of the backlog is sent at once. */
  draining: boolean;
  /** When the lane has work again, or undefined when it waits for a wake. */
  wakeAt: number | undefined;
  /** Delivered events whose attempt record is not yet written and read back. */
  recording: DeliveredRecords;
  /** Set by a wake that arrived while the lane was running; the lane runs once more. */
  wokenWhileRunning: boolean;
}

/** How often a lane rechecks an event that another process has claimed, in milliseconds. */
const OTHER_CLAIM_CHECK_MS = 1000;

/** Maximum delay of one timer; a later due time is reached in steps. */
const MAX_TIMER_MS = 3_600_000;

/** Events claimed with one journal write while a lane sends a backlog. */
const CLAIM_BATCH = 100;

/**
 * Age up to which a batch claim is used for an attempt without claiming again. The runtime's
 * lease is the attempt deadline plus 30 seconds, so a claim used within 5 seconds of being
 * written still outlives the attempt.
 */
const CLAIM_REUSE_MS = 5_000;

/**
 * Sends pending events: at once when they are queued, serially per relay, with backoff after
 * failures and one probe at a time while an endpoint is down. Holds a timer only while some
 * event waits for a retry, and none when nothing is pending.
 */
export class DeliveryScheduler {
  private readonly options: SchedulerOptions;
  private readonly now: () => number;
  private readonly lanes = new Map<string, Lane>();
  private readonly loops = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
    // Every attempt in flight, one per relay, listens to this one signal. More than ten relays
    // at once is expected, not a leak, so Node's listener warning is turned off for it.
    setMaxListeners(0, this.abort.signal);
    this.now = options.now ?? Date.now;
  }

  /** Indexes every pending event in the outbox and starts what is due. */
  start(): void {
    for (const event of this.options.outbox.events()) {
      this.track(event);
    }

    this.wake('start');
  }

  /** Updates the index after the outbox changed these events, and starts lanes with new work. */
  onEventsChanged(ids: string[]): void {
    for (const id of ids) {
      const event = this.options.outbox.get(id);

      if (event === undefined) {
        for (const lane of this.lanes.values()) {
          lane.pending.delete(id);
        }

        continue;
      }

      this.track(event);
    }

    for (const lane of this.lanes.values()) {
      if (!lane.running && lane.pending.size > 0 && lane.blockedUntil <= this.now()) {
        this.runLane(lane);
      }
    }
  }

  /**
   * Tries every lane now, dropping any backoff: used on start, when the network comes back,
   * on system resume and after a settings change.
   */
  wake(reason: string): void {
    if (this.stopped) {
      return;
    }

    this.options.logger.debug('outbox woken', { reason });

    for (const lane of this.lanes.values()) {
      lane.blockedUntil = 0;

      if (lane.running) {
        // The running loop may already be past the check this wake is about (a relay resumed
        // while the loop found it paused), so it goes round again when it ends.
        lane.wokenWhileRunning = true;
      } else if (lane.pending.size > 0) {
        // Events whose own retry time is still ahead are tried now too, because a wake means
        // the reason they failed (no network, a sleeping laptop) may be gone.
        lane.draining = true;
        this.runLane(lane);
      }
    }

    this.armTimer();
  }

  /** Counts of pending events and lanes, for diagnostics. */
  status(): { pending: number; lanes: number; timerArmed: boolean; inFlight: number } {
    let pending = 0;

    for (const lane of this.lanes.values()) {
      pending += lane.pending.size;
    }

    return {
      pending,
      lanes: this.lanes.size,
      timerArmed: this.timer !== undefined,
      inFlight: this.loops.size,
    };
  }

  /** Returns when a failing relay's endpoint is tried next, or undefined when it is not failing. */
  blockedUntil(relay: string): number | undefined {
    const lane = this.lanes.get(relay);
    return lane !== undefined && lane.blockedUntil > this.now() ? lane.blockedUntil : undefined;
  }

  /** Stops sending: aborts attempts in flight and waits for them, at most `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.abort.abort();
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, graceMs);
      graceTimer.unref();
    });

    await Promise.race([Promise.allSettled([...this.loops]), grace]);
    clearTimeout(graceTimer);
  }

  private track(event: OutboxEvent): void {
    let lane = this.lanes.get(event.relay);

    if (event.state !== 'pending') {
      lane?.pending.delete(event.id);
      return;
    }

    if (lane === undefined) {
      lane = {
        relay: event.relay,
        pending: new Set(),
        running: false,
        blockedUntil: 0,
        consecutiveFailures: 0,
        draining: false,
        wakeAt: undefined,
        recording: new DeliveredRecords(this.options.outbox, this.now),
        wokenWhileRunning: false,
      };
      this.lanes.set(event.relay, lane);
    }

    lane.pending.add(event.id);
  }

  private runLane(lane: Lane): void {
    if (this.stopped || lane.running) {
      return;
    }

    lane.running = true;
    lane.wakeAt = undefined;
    const loop = this.deliverLane(lane)
      .catch((error: unknown) => {
        // The journal could not be written (disk full, folder removed). Events stay pending on
        // disk as they were; the lane is tried again after a backoff.
        this.options.logger.error('delivery loop failed; retrying later', {
          relay: lane.relay,
          error: describeError(error),
        });
        lane.wakeAt = this.now() + this.options.retryTiming().initialDelayMs;
      })
      .finally(() => {
        lane.running = false;
        lane.draining = false;
        this.loops.delete(loop);

        if (lane.wokenWhileRunning) {
          lane.wokenWhileRunning = false;

          if (lane.pending.size > 0 && !this.stopped) {
            lane.draining = true;
            this.runLane(lane);
            return;
          }
        }

        if (lane.pending.size === 0 && lane.wakeAt === undefined) {
          this.lanes.delete(lane.relay);
        }

        this.armTimer();

        if (this.loops.size === 0) {
          this.options.onQuiet?.();

          if (this.status().pending === 0) {
            this.options.onIdle?.();
          }
        }
      });
    this.loops.add(loop);
  }

  private async deliverLane(lane: Lane): Promise<void> {
    try {
      await this.sendDueEvents(lane);
    } finally {
      // Failures of background writes surface here, so the loop's error handling logs them.
      await lane.recording.settle();
    }
  }

  private async sendDueEvents(lane: Lane): Promise<void> {
    const { outbox } = this.options;
    const skipped = new Set<string>();
    const claimed: OutboxEvent[] = [];

    while (!this.stopped) {
      const now = this.now();

      if (lane.blockedUntil > now) {
        lane.wakeAt = lane.blockedUntil;
        return;
      }

      const target = this.options.resolveTarget(lane.relay);

      if (!target.ok) {
        await this.holdOrSkip(lane, target);
        return;
      }

      const event = await this.nextClaimed(lane, now, skipped, claimed);

      if (event === undefined) {
        if (lane.recording.size > 0) {
          // Delivered events leave `pending` once their records are read back.
          await lane.recording.settle();
          continue;
        }

        lane.wakeAt = this.nextWakeFor(lane, now);
        return;
      }

      const timing = this.options.retryTiming();

      if (now - event.queuedAt > timing.maxAgeMs) {
        await outbox.setState(event.id, 'dead', {
          reason: `expired: not delivered within ${timing.maxAgeMs / 3_600_000} hours`,
        });
        continue;
      }

      const result = await this.options.send(
        { url: target.url, body: event.body, eventId: event.id, secret: target.secret },
        this.abort.signal,
      );

      if (this.stopped) {
        // Not recorded: the claim dies with this owner, and the next activation retries.
        return;
      }

      // After a failure the loop goes round once more: the top of the loop waits for the
      // backoff, which may already have passed when writing the attempt took longer than it.
      await this.recordResult(lane, event, target.url, result);
    }
  }

  /**
   * Returns the next event to send, claimed by this process. A probe claims one event. Otherwise
   * the lane claims up to `CLAIM_BATCH` due events with one journal write, and uses those
   * claims while they are recent.
   */
  private async nextClaimed(
    lane: Lane,
    now: number,
    skipped: Set<string>,
    claimed: OutboxEvent[],
  ): Promise<OutboxEvent | undefined> {
    const { outbox } = this.options;
    const minimumLeaseLeft = this.options.leaseMs() - CLAIM_REUSE_MS;

    for (let event = claimed.shift(); event !== undefined; event = claimed.shift()) {
      const claim = event.claim;

      if (
        event.state === 'pending' &&
        claim?.owner === outbox.owner &&
        claim.until - now >= minimumLeaseLeft &&
        !lane.recording.has(event.id)
      ) {
        return event;
      }
    }

    const probing = lane.consecutiveFailures > 0;
    const candidates = this.nextEvents(lane, now, skipped, probing ? 1 : CLAIM_BATCH);

    if (candidates.length === 0) {
      return undefined;
    }

    const won = await outbox.claimMany(
      candidates.map((event) => event.id),
      this.options.leaseMs(),
    );

    for (const event of candidates) {
      if (won.has(event.id)) {
        claimed.push(event);
      } else {
        skipped.add(event.id);
      }
    }

    return claimed.shift() ?? this.nextClaimed(lane, this.now(), skipped, claimed);
  }

  /** Records one attempt and updates the lane's backoff. */
  private async recordResult(
    lane: Lane,
    event: OutboxEvent,
    url: string,
    result: AttemptResult,
  ): Promise<void> {
    const { outbox, logger } = this.options;
    const attempt = toAttempt(url, result, keyPrefixOf(event.body));
    result = { ...result, errorMessage: attempt.errorMessage, location: attempt.location };
    const context = {
      eventId: event.id,
      relay: lane.relay,
      httpStatus: result.httpStatus,
      error: result.errorClass,
    };

    switch (result.classification) {
      case 'delivered': {
        const recovered = lane.consecutiveFailures > 0;
        lane.consecutiveFailures = 0;
        lane.draining ||= recovered;
        lane.blockedUntil = 0;
        // Written in batches while the next events are sent; the lane settles them before it
        // stops, so write errors still reach the loop.
        await lane.recording.add(event.id, attempt);

        if (recovered) {
          logger.info('relay endpoint recovered; sending its backlog', {
            relay: lane.relay,
            pending: lane.pending.size,
          });
        }

        return;
      }

      case 'retry': {
        const timing = this.options.retryTiming();
        const failures = event.failures + 1;
        const delay = result.retryAfterMs ?? backoffDelay(failures, timing, this.options.random);
        const nextAt = this.now() + delay;
        lane.consecutiveFailures += 1;

        if (nextAt - event.queuedAt > timing.maxAgeMs) {
          const reason = `expired after ${event.attemptCount + 1} attempts: ${describeResult(result)}`;
          await outbox.recordAttempt(event.id, attempt, { state: 'dead', reason });
          logger.warn('callback expired undelivered', context);
          return;
        }

        lane.blockedUntil = nextAt;
        await outbox.recordAttempt(event.id, attempt, {
          state: 'pending',
          nextAt,
          reason: describeResult(result),
        });
        logger.info('callback attempt failed; will retry', { ...context, retryInMs: delay });
        return;
      }

      case 'gone': {
        await outbox.recordAttempt(event.id, attempt, {
          state: 'dead',
          reason: '410 Gone: the relay was paused',
        });
        logger.warn(
          'relay responded 410 Gone; pausing it until it is resumed in settings',
          context,
        );
        this.options.onRelayGone(lane.relay);
        return;
      }

      case 'permanent':
      case 'redirect': {
        lane.consecutiveFailures = 0;
        await outbox.recordAttempt(event.id, attempt, {
          state: 'dead',
          reason: describeResult(result),
        });
        logger.warn('callback rejected permanently', context);
        return;
      }
    }
  }

  /**
   * Picks up to `limit` of the oldest due events; while the endpoint is failing, the oldest
   * one probes it.
   */
  private nextEvents(lane: Lane, now: number, skipped: Set<string>, limit: number): OutboxEvent[] {
    const probing = lane.consecutiveFailures > 0;
    const events: OutboxEvent[] = [];

    for (const id of lane.pending) {
      const event = this.options.outbox.get(id);

      if (event === undefined || event.state !== 'pending') {
        lane.pending.delete(id);
        continue;
      }

      if (
        skipped.has(id) ||
        lane.recording.has(id) ||
        this.options.outbox.isClaimedByOther(event)
      ) {
        continue;
      }

      if (probing || lane.draining || event.nextAt <= now) {
        events.push(event);

        if (events.length >= limit) {
          break;
        }
      }
    }

    return events;
  }

  private nextWakeFor(lane: Lane, now: number): number | undefined {
    let earliest: number | undefined;

    for (const id of lane.pending) {
      const event = this.options.outbox.get(id);

      if (event === undefined) {
        continue;
      }

      // A claim by another process is checked again within OTHER_CLAIM_CHECK_MS, because it
      // is void as soon as that process exits, long before its lease ends.
      const due =
        event.claim !== undefined && event.claim.until > now
          ? Math.min(event.claim.until, now + OTHER_CLAIM_CHECK_MS)
          : Math.max(event.nextAt, now + 1);
      earliest = earliest === undefined ? due : Math.min(earliest, due);
    }

    return earliest;
  }

  /**
   * A paused relay, or a disabled plugin, keeps its events until resumed; a relay that has no
   * usable URL any more gets its pending events recorded as skipped.
   */
  private async holdOrSkip(
    lane: Lane,
    target: Extract<CallbackTarget, { ok: false }>,
  ): Promise<void> {
    lane.wakeAt = undefined;

    if (target.reason === 'relay_paused' || target.reason === 'disabled') {
      return;
    }

    for (const id of [...lane.pending]) {
      await this.options.outbox.setState(id, 'skipped', {
        reason: `${target.reason}: ${target.message}`,
      });
    }
  }

  private armTimer(): void {
    if (this.stopped) {
      return;
    }

    let earliest = Number.POSITIVE_INFINITY;

    for (const lane of this.lanes.values()) {
      if (!lane.running && lane.wakeAt !== undefined && lane.pending.size > 0) {
        earliest = Math.min(earliest, lane.wakeAt);
      }
    }

    if (earliest === Number.POSITIVE_INFINITY) {
      this.clearTimer();
      return;
    }

    if (this.timer !== undefined && this.timerAt <= earliest) {
      return;
    }

    this.clearTimer();
    const delay = Math.min(Math.max(earliest - this.now(), 0), MAX_TIMER_MS);
    this.timerAt = earliest;
    this.timer = setTimeout(() => this.onTimer(), delay);
    // The outbox never keeps the host process alive on its own; pending events are on disk.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();

    for (const lane of this.lanes.values()) {
      if (!lane.running && lane.wakeAt !== undefined && lane.wakeAt <= now) {
        this.runLane(lane);
      }
    }

    this.armTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
  }
}

/** Converts a send result into the stored attempt, with any echo of the API key cut out. */
function toAttempt(url: string, result: AttemptResult, keyPrefix: string): Attempt {
  const redact = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : redactKeyLike(text, keyPrefix);
  // The log keeps the start of long texts; their limits match the journal's schema, and a
  // Location stays short enough for the event's reason line to quote it.
  return {
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    url: clip(redactUrl(url), 2048),
    classification: result.classification,
    httpStatus: result.httpStatus,
    errorClass: result.errorClass,
    errorMessage: clip(redact(result.errorMessage), 500),
    location: clip(redact(result.location), 500),
    excerpt: clip(redact(result.responseExcerpt), 8192),
    retryAfterMs: result.retryAfterMs,
  };
}

function clip<T extends string | undefined>(text: T, max: number): T {
  return (text !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text) as T;
}

/** Describes a result in one line for the log and the panel: HTTP status or error, and redirect target. */
export function describeResult(result: AttemptResult): string {
  if (result.classification === 'redirect') {
    return `HTTP ${result.httpStatus ?? '3xx'} redirect to ${result.location ?? '(no Location header)'} was not followed`;
  }

  if (result.httpStatus !== undefined) {
    return `HTTP ${result.httpStatus}`;
  }

  return `${result.errorClass ?? 'error'}: ${result.errorMessage ?? 'no details'}`;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
