import type { AttemptResult, SendRequest } from '../delivery/sender.js';
import { backoffDelay, type RetryTiming } from '../delivery/retry-policy.js';
import { redactUrl } from '../delivery/callback-url.js';
import { keyPrefixOf, redactKeyLike } from '../connect/redact-key.js';
import type { CallbackTarget } from '../settings/callback-target.js';
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
}

/** Maximum delay of one timer; a later due time is reached in steps. */
const MAX_TIMER_MS = 3_600_000;

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

      if (!lane.running && lane.pending.size > 0) {
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

        if (lane.pending.size === 0 && lane.wakeAt === undefined) {
          this.lanes.delete(lane.relay);
        }

        this.armTimer();
      });
    this.loops.add(loop);
  }

  private async deliverLane(lane: Lane): Promise<void> {
    const { outbox } = this.options;
    const skipped = new Set<string>();

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

      const event = this.nextEvent(lane, now, skipped);

      if (event === undefined) {
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

      if (!(await outbox.claim(event.id, this.options.leaseMs()))) {
        skipped.add(event.id);
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
        await outbox.recordAttempt(event.id, attempt, { state: 'delivered' });

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

  /** Picks the oldest due event; while the endpoint is failing, the oldest one probes it. */
  private nextEvent(lane: Lane, now: number, skipped: Set<string>): OutboxEvent | undefined {
    const probing = lane.consecutiveFailures > 0;

    for (const id of lane.pending) {
      const event = this.options.outbox.get(id);

      if (event === undefined || event.state !== 'pending') {
        lane.pending.delete(id);
        continue;
      }

      if (skipped.has(id) || this.options.outbox.isClaimedByOther(event)) {
        continue;
      }

      if (probing || lane.draining || event.nextAt <= now) {
        return event;
      }
    }

    return undefined;
  }

  private nextWakeFor(lane: Lane, now: number): number | undefined {
    let earliest: number | undefined;

    for (const id of lane.pending) {
      const event = this.options.outbox.get(id);

      if (event === undefined) {
        continue;
      }

      const due =
        event.claim !== undefined && event.claim.until > now
          ? event.claim.until
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
  return {
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    url: redactUrl(url),
    classification: result.classification,
    httpStatus: result.httpStatus,
    errorClass: result.errorClass,
    errorMessage: redact(result.errorMessage),
    location: redact(result.location),
    excerpt: redact(result.responseExcerpt),
    retryAfterMs: result.retryAfterMs,
  };
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
