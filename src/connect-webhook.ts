import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type dns from 'node:dns';
import { buildCallback, type OutcomeKind } from './connect/build-callback.js';
import { TEST_EVENT_KEY, TEST_EVENT_REF } from './connect/test-event.js';
import { createEnvProxyResolver } from './delivery/proxy-from-env.js';
import type { ProxyResolver } from './delivery/proxy-route.js';
import type { Sender, SenderOptions, SendRequest } from './delivery/sender.js';
import type { HookResult, LimeHost } from './host.js';
import { createLogger, type PluginLogger } from './logger.js';
import { Outbox, type OutboxEvent } from './outbox/outbox.js';
import { RateLimiter } from './outbox/rate-limiter.js';
import { DeliveryScheduler, describeError } from './outbox/scheduler.js';
import { resolveCallbackTarget } from './settings/callback-target.js';
import type { Settings } from './settings/settings-schema.js';
import type { SecretCodec } from './settings/secret-codec.js';
import { SettingsStore } from './settings/settings-store.js';
import { PLUGIN_VERSION } from './version.js';

/** Limits on accepting outcomes; documented in the README. */
export interface AcceptLimits {
  /** Outcomes one relay may queue at once before the rate applies. */
  burst: number;
  /** Outcomes one relay may queue per minute after the burst. */
  perMinute: number;
  /** Pending events across all relays; further outcomes are refused and counted. */
  maxPending: number;
}

export const DEFAULT_ACCEPT_LIMITS: AcceptLimits = { burst: 60, perMinute: 60, maxPending: 50_000 };

/** Options for tests, benchmarks and the development host; Lime passes none. */
export interface RuntimeOptions {
  now?: () => number;
  random?: () => number;
  limits?: Partial<AcceptLimits>;
  /** DNS lookup used by the sender, in place of `dns.lookup`. */
  resolve?: typeof dns.lookup;
  /** Proxy per callback URL; default HTTPS_PROXY and NO_PROXY. Electron passes its own. */
  resolveProxy?: ProxyResolver;
  /** Encrypts signing secrets in the settings file; Electron passes safeStorage's. */
  secretCodec?: SecretCodec;
}

/** Counts of outcomes that were not queued, by reason; shown in the panel and the log. */
export interface DropCounters {
  invalid: number;
  rateLimited: Record<string, number>;
  outboxFull: number;
  duplicate: number;
}

export type ChangeListener = (change: { eventIds: string[] }) => void;

/**
 * The running plugin: validates outcomes, queues them durably, and delivers them. The Lime
 * hooks and the panel bridge are thin wrappers around this class.
 */
export class ConnectWebhook {
  readonly logger: PluginLogger;
  readonly outbox: Outbox;
  readonly settings: SettingsStore;
  private readonly host: LimeHost;
  private readonly scheduler: DeliveryScheduler;
  private readonly limiter: RateLimiter;
  private readonly limits: AcceptLimits;
  private readonly now: () => number;
  private readonly options: RuntimeOptions;
  private readonly inflightFlows = new Map<string, Promise<HookResult>>();
  private enqueuesInFlight = 0;
  private readonly listeners = new Set<ChangeListener>();
  /** Created on the first attempt, so that activating with nothing to send never loads got. */
  private sender: Sender | undefined;
  private senderKey = '';
  private senderSettings: Settings | undefined;
  private stopped = false;
  readonly drops: DropCounters = { invalid: 0, rateLimited: {}, outboxFull: 0, duplicate: 0 };

  private constructor(
    host: LimeHost,
    parts: { logger: PluginLogger; outbox: Outbox; settings: SettingsStore },
    options: RuntimeOptions,
  ) {
    this.host = host;
    this.logger = parts.logger;
    this.outbox = parts.outbox;
    this.settings = parts.settings;
    this.options = options;
    this.now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_ACCEPT_LIMITS, ...options.limits };
    this.limiter = new RateLimiter({
      burst: this.limits.burst,
      perMinute: this.limits.perMinute,
      now: this.now,
    });
    this.scheduler = new DeliveryScheduler({
      outbox: this.outbox,
      send: (request, signal) => this.send(request, signal),
      resolveTarget: (relayId) =>
        resolveCallbackTarget(relayId, this.settings.get(), this.host.relays),
      retryTiming: () => {
        const { retry } = this.settings.get();
        return {
          initialDelayMs: retry.initialDelayMs,
          maxDelayMs: retry.maxDelayMs,
          maxAgeMs: retry.maxAgeHours * 3_600_000,
        };
      },
      leaseMs: () => this.settings.get().network.timeoutMs + 30_000,
      onRelayGone: (relayId) => this.pauseRelay(relayId),
      logger: this.logger,
      now: this.now,
      random: options.random,
      // Nothing is pending: keep-alive connections would only hold sockets open until the
      // relay closes them.
      onIdle: () => this.sender?.releaseIdleSockets(),
      // No attempt runs: the journal can be compacted without reloading events under one.
      onQuiet: () => this.outbox.compactIfNeeded(),
    });
  }

  static async start(host: LimeHost, options: RuntimeOptions = {}): Promise<ConnectWebhook> {
    const logger = createLogger(host.log);
    await fs.mkdir(host.dataDir, { recursive: true, mode: 0o700 });
    const settings = await SettingsStore.open(host.dataDir, host.config, logger, {
      ...(options.secretCodec === undefined ? {} : { secretCodec: options.secretCodec }),
    });
    const owner = randomUUID();
    const outbox = await Outbox.open(path.join(host.dataDir, 'outbox'), owner, {
      now: options.now,
      logger,
    });
    const runtime = new ConnectWebhook(host, { logger, outbox, settings }, options);

    outbox.onChange = (ids) => runtime.onEventsChanged(ids);
    settings.onChange((next) => runtime.onSettingsChanged(next));
    runtime.scheduler.start();
    logger.info('activated', {
      pluginVersion: PLUGIN_VERSION,
      events: outbox.size,
      pending: outbox.pendingCount,
    });
    return runtime;
  }

  /** Validates one outcome and queues its callback; resolves once the event is on disk. */
  async handleOutcome(kind: OutcomeKind, outcome: unknown): Promise<HookResult> {
    if (this.stopped) {
      return { queued: false, reason: 'inactive', message: 'the plugin has been deactivated' };
    }

    const flowId = readFlowId(outcome);

    if (flowId === undefined) {
      return this.queueOutcome(kind, outcome);
    }

    const flowKey = `${kind}:${flowId}`;
    const inflight = this.inflightFlows.get(flowKey);

    if (inflight !== undefined) {
      this.drops.duplicate += 1;
      return inflight;
    }

    const result = this.queueOutcome(kind, outcome).finally(() =>
      this.inflightFlows.delete(flowKey),
    );
    this.inflightFlows.set(flowKey, result);
    return result;
  }

  /** Tries every relay now: network back online, system resume, or a user's request. */
  wake(reason: string): void {
    this.scheduler.wake(reason);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Scheduler figures for diagnostics and the benchmark's idle check. */
  status(): ReturnType<DeliveryScheduler['status']> {
    return this.scheduler.status();
  }

  nextProbeAt(relay: string): number | undefined {
    return this.scheduler.blockedUntil(relay);
  }

  /** Sends a pending, retrying or dead event now with the same event id. */
  async retryNow(id: string): Promise<boolean> {
    const event = this.outbox.get(id);

    if (event === undefined || event.state === 'delivered') {
      return false;
    }

    await this.outbox.setState(id, 'pending', {
      nextAt: this.now(),
      reason: 'retry requested',
      resetBackoff: true,
    });
    this.scheduler.wake('retry requested');
    return true;
  }

  /** Sends a delivered, dead or skipped event again with the same event id and body. */
  async replay(id: string): Promise<boolean> {
    const event = this.outbox.get(id);

    if (event === undefined) {
      return false;
    }

    await this.outbox.setState(id, 'pending', {
      nextAt: this.now(),
      reason: 'replay requested',
      resetBackoff: true,
    });
    this.scheduler.wake('replay requested');
    return true;
  }

  async discard(id: string): Promise<boolean> {
    if (this.outbox.get(id) === undefined) {
      return false;
    }

    await this.outbox.setState(id, 'discarded', { reason: 'discarded by the user' });
    return true;
  }

  /** Removes every delivered event from the log; returns how many were removed. */
  async clearDelivered(): Promise<number> {
    const delivered = [...this.outbox.events()].filter((event) => event.state === 'delivered');

    for (const event of delivered) {
      await this.outbox.setState(event.id, 'discarded', { reason: 'cleared by the user' });
    }

    return delivered.length;
  }

  /** Queues a test callback to a relay's URL, outside the rate limit; marked as a test. */
  async sendTestEvent(relay: string): Promise<HookResult> {
    return this.queueOutcome(
      'confirmed',
      { relay, key: TEST_EVENT_KEY, ref: TEST_EVENT_REF },
      { test: true },
    );
  }

  /** Resumes a relay that a `410 Gone` reply or the user paused. */
  resumeRelay(relayId: string): void {
    const result = this.settings.setRelayPaused(relayId, false);

    if (!result.ok) {
      this.logger.error('could not resume the relay', { relay: relayId, message: result.message });
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }

    this.stopped = true;
    await this.scheduler.stop();
    this.sender?.close();
    await this.outbox.close();
    this.listeners.clear();
    this.logger.info('deactivated');
  }

  private async queueOutcome(
    kind: OutcomeKind,
    outcome: unknown,
    extra: { test?: boolean } = {},
  ): Promise<HookResult> {
    const built = buildCallback(kind, outcome, {
      appVersion: this.host.app.version,
      platform: this.host.app.platform,
      now: this.now,
    });

    if (!built.ok) {
      this.drops.invalid += 1;
      this.logger.warn('outcome rejected', { kind, field: built.field, message: built.message });
      return { queued: false, reason: 'invalid', message: built.message };
    }

    const { callback } = built;

    if (callback.flowId !== undefined) {
      const existing = this.outbox.findByFlow(callback.flowId, callback.payload.status);

      if (existing !== undefined) {
        this.drops.duplicate += 1;
        return { queued: true, eventId: existing.id };
      }
    }

    if (extra.test !== true && !this.limiter.take(callback.relayId)) {
      this.drops.rateLimited[callback.relayId] =
        (this.drops.rateLimited[callback.relayId] ?? 0) + 1;
      this.logRateLimited(callback.relayId);
      return {
        queued: false,
        reason: 'rate_limited',
        message: `relay ${callback.relayId} is over ${this.limits.perMinute} outcomes a minute; this outcome was not queued`,
      };
    }

    // Outcomes still being written count too, so concurrent hooks cannot overshoot the cap.
    if (this.outbox.pendingCount + this.enqueuesInFlight >= this.limits.maxPending) {
      this.drops.outboxFull += 1;
      this.logger.warn('outbox is full; outcome not queued', {
        pending: this.outbox.pendingCount,
        relay: callback.relayId,
      });
      return {
        queued: false,
        reason: 'outbox_full',
        message: `the outbox is full with ${this.outbox.pendingCount} pending events; this outcome was not queued`,
      };
    }

    const target = resolveCallbackTarget(callback.relayId, this.settings.get(), this.host.relays);
    const skip = !target.ok && target.reason !== 'relay_paused';

    this.enqueuesInFlight += 1;

    try {
      await this.outbox.enqueue({
        id: callback.eventId,
        relay: callback.relayId,
        ref: callback.ref,
        flowId: callback.flowId,
        status: callback.payload.status,
        errorCode: callback.payload.error_code,
        occurredAt: callback.occurredAt,
        body: callback.body,
        test: extra.test,
        state: skip ? 'skipped' : 'pending',
        reason: target.ok ? undefined : target.reason,
        message: target.ok ? undefined : target.message,
      });
    } finally {
      this.enqueuesInFlight -= 1;
    }

    if (skip) {
      this.logger.info('outcome recorded as skipped', {
        eventId: callback.eventId,
        relay: callback.relayId,
        reason: target.reason,
      });
      return {
        queued: false,
        reason: target.reason,
        message: `${target.message}; recorded as skipped with event id ${callback.eventId}`,
      };
    }

    return { queued: true, eventId: callback.eventId };
  }

  private async send(request: SendRequest, signal: AbortSignal): ReturnType<Sender['send']> {
    const settings = this.settings.get();

    // The store returns the same object until the settings change, so the key, which contains
    // every extra CA certificate, is serialised once per change rather than once per attempt.
    if (settings !== this.senderSettings || this.sender === undefined) {
      this.senderSettings = settings;
      const key = networkKey(settings);

      if (key !== this.senderKey || this.sender === undefined) {
        // Network settings changed: new connections use the new trust and address rules.
        const { createSender } = await loadSenderModule();
        this.sender?.close();
        this.sender = createSender(this.senderOptions(settings));
        this.senderKey = key;
      }
    }

    return this.sender.send({ ...request, now: this.now }, signal);
  }

  private senderOptions(settings: Settings): SenderOptions {
    return {
      allowPrivateAddresses: settings.network.allowPrivateAddresses,
      extraCaCertificates: settings.network.extraCaCertificates,
      timeoutMs: settings.network.timeoutMs,
      userAgent: `Lime/${this.host.app.version} lime-connect-webhook/${PLUGIN_VERSION}`,
      maxDelayMs: settings.retry.maxDelayMs,
      resolve: this.options.resolve,
      resolveProxy: this.options.resolveProxy ?? createEnvProxyResolver(process.env),
    };
  }

  private pauseRelay(relayId: string): void {
    const result = this.settings.setRelayPaused(relayId, true);

    if (!result.ok) {
      this.logger.error('could not pause the relay after 410 Gone', {
        relay: relayId,
        message: result.message,
      });
    }
  }

  private onEventsChanged(ids: string[]): void {
    this.scheduler.onEventsChanged(ids);

    for (const listener of this.listeners) {
      try {
        listener({ eventIds: ids });
      } catch (error) {
        this.logger.warn('a change listener failed', { error: describeError(error) });
      }
    }
  }

  private onSettingsChanged(settings: Settings): void {
    this.logger.info('settings changed; waking the outbox', {
      relays: Object.keys(settings.relays).length,
    });
    this.scheduler.wake('settings changed');
  }

  private lastRateLimitLog = 0;

  /** Logs a flood once a minute with the running count, not once per dropped outcome. */
  private logRateLimited(relay: string): void {
    const now = this.now();

    if (now - this.lastRateLimitLog >= 60_000) {
      this.lastRateLimitLog = now;
      this.logger.warn('relay is over its outcome rate; outcomes are dropped and counted', {
        relay,
        dropped: this.drops.rateLimited[relay],
      });
    }
  }
}

let senderModule: Promise<typeof import('./delivery/sender.js')> | undefined;

/** Loads got and the sender on first use: a host that activates with nothing pending starts faster. */
function loadSenderModule(): Promise<typeof import('./delivery/sender.js')> {
  senderModule ??= import('./delivery/sender.js');
  return senderModule;
}

function readFlowId(outcome: unknown): string | undefined {
  if (typeof outcome !== 'object' || outcome === null) {
    return undefined;
  }

  let flowId: unknown;

  try {
    flowId = Object.getOwnPropertyDescriptor(outcome, 'flowId')?.value;
  } catch {
    // A Proxy trap threw, and its message may quote the key. buildCallback rejects the
    // outcome as invalid without repeating that message.
    return undefined;
  }

  return typeof flowId === 'string' && flowId.length > 0 && flowId.length <= 256
    ? flowId
    : undefined;
}

function networkKey(settings: Settings): string {
  return JSON.stringify([settings.network, settings.retry.maxDelayMs]);
}

export type { OutboxEvent };
