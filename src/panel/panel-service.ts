import { Webhook } from 'standardwebhooks';
import type { ConnectWebhook, OutboxEvent } from '../connect-webhook.js';
import type { LimeHost } from '../host.js';
import type { AttemptEntry } from '../outbox/outbox.js';
import {
  resolveCallbackTarget,
  type CallbackTarget,
  type RelayRegistry,
} from '../settings/callback-target.js';
import { SettingsSchema } from '../settings/settings-schema.js';
import { PLUGIN_VERSION } from '../version.js';
import type {
  ActionResult,
  AttemptView,
  DeliveryStatus,
  EventDetail,
  EventPage,
  EventQuery,
  EventRow,
  PanelBridge,
  PanelInfo,
  PanelStats,
  SettingsResult,
  TargetProblem,
  TestEventResult,
  ValidationIssue,
} from './bridge.js';
import { computeStats } from './panel-stats.js';
import { maskSecrets, restoreSecrets } from './secret-mask.js';

export interface PanelServiceOptions {
  app: LimeHost['app'];
  relays?: RelayRegistry;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_PAGE_SIZE = 100;

/**
 * The plugin side of the panel bridge: reads the outbox and settings of a running
 * ConnectWebhook and runs the panel's actions on it. Both hosts call it through
 * dispatchBridgeCall, after the arguments passed their schemas.
 */
export class PanelService implements PanelBridge {
  private readonly runtime: ConnectWebhook;
  private readonly options: PanelServiceOptions;
  private readonly now: () => number;

  constructor(runtime: ConnectWebhook, options: PanelServiceOptions) {
    this.runtime = runtime;
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async info(): Promise<PanelInfo> {
    const settings = this.runtime.settings.get();
    return {
      pluginVersion: PLUGIN_VERSION,
      locale: this.options.app.locale ?? 'en',
      relays: this.relayIds(),
      pausedRelays: Object.entries(settings.relays)
        .filter(([, relay]) => relay.paused === true)
        .map(([id]) => id)
        .sort(),
    };
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    const statuses = new Set(query.statuses ?? []);
    const search = query.search?.trim().toLowerCase() ?? '';
    const counts: Record<DeliveryStatus, number> = {
      pending: 0,
      retrying: 0,
      delivered: 0,
      dead: 0,
      skipped: 0,
    };
    const matches: OutboxEvent[] = [];

    for (const event of this.runtime.outbox.events()) {
      const status = deliveryStatus(event);
      counts[status] += 1;

      if (statuses.size > 0 && !statuses.has(status)) {
        continue;
      }

      if (query.relay !== undefined && query.relay !== '' && event.relay !== query.relay) {
        continue;
      }

      if (
        search !== '' &&
        !event.id.toLowerCase().includes(search) &&
        !(event.ref ?? '').toLowerCase().includes(search)
      ) {
        continue;
      }

      matches.push(event);
    }

    // Newest first; UUID v7 ids sort by time, so they break ties within one millisecond.
    matches.sort((left, right) => right.queuedAt - left.queuedAt || compareIds(right, left));
    const offset = Math.min(query.offset ?? 0, Math.max(0, matches.length - 1));
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    return {
      rows: matches.slice(offset, offset + limit).map((event) => this.toRow(event)),
      total: matches.length,
      offset,
      counts,
      relays: this.relayIds(),
    };
  }

  async eventDetail(id: string): Promise<EventDetail | undefined> {
    const event = this.runtime.outbox.get(id);

    if (event === undefined) {
      return undefined;
    }

    const settings = this.runtime.settings.get();
    const target = resolveCallbackTarget(event.relay, settings, this.options.relays);
    const last = event.attempts.at(-1);
    const timestamp = Math.floor((last?.startedAt ?? this.now()) / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `Lime/${this.options.app.version} lime-connect-webhook/${PLUGIN_VERSION}`,
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
    };

    if (target.ok && target.secret !== undefined) {
      headers['webhook-signature'] = shortSignature(target.secret, event, timestamp);
    }

    return {
      row: this.toRow(event),
      body: event.body,
      target: target.ok ? { url: target.url } : this.targetProblem(event.relay, target),
      headers,
      message: event.message,
      attempts: event.attempts.map(toAttemptView),
    };
  }

  async retryNow(id: string): Promise<ActionResult> {
    const done = await this.runtime.retryNow(id);
    return done ? { ok: true, message: 'retry_started' } : { ok: false, message: 'not_retryable' };
  }

  async replay(id: string): Promise<ActionResult> {
    const event = this.runtime.outbox.get(id);

    if (event === undefined || (event.state !== 'delivered' && event.state !== 'dead')) {
      return { ok: false, message: 'not_replayable' };
    }

    const done = await this.runtime.replay(id);
    return done ? { ok: true, message: 'replay_started' } : { ok: false, message: 'not_found' };
  }

  async discard(id: string): Promise<ActionResult> {
    const done = await this.runtime.discard(id);
    return done ? { ok: true, message: 'discarded' } : { ok: false, message: 'not_found' };
  }

  async sendTestEvent(relay: string): Promise<TestEventResult> {
    const result = await this.runtime.sendTestEvent(relay);
    return result.queued
      ? { ok: true, message: 'test_queued', eventId: result.eventId }
      : { ok: false, message: result.message };
  }

  async exportLog(): Promise<string> {
    const events = [...this.runtime.outbox.events()]
      .sort((left, right) => left.queuedAt - right.queuedAt)
      .map((event) => ({
        ...this.toRow(event),
        lastAttempt: undefined,
        message: event.message,
        body: event.body,
        attempts: event.attempts.map(toAttemptView),
      }));
    return JSON.stringify(
      {
        exportedAt: new Date(this.now()).toISOString(),
        plugin: 'lime-connect-webhook',
        pluginVersion: PLUGIN_VERSION,
        app: { version: this.options.app.version, platform: this.options.app.platform },
        drops: this.runtime.drops,
        events,
      },
      null,
      2,
    );
  }

  async clearDelivered(): Promise<ActionResult> {
    const count = await this.runtime.clearDelivered();
    return { ok: true, message: String(count) };
  }

  async resumeRelay(relay: string): Promise<ActionResult> {
    if (!this.relayIds().includes(relay)) {
      return { ok: false, message: 'unknown_relay', relay };
    }

    this.runtime.resumeRelay(relay);
    this.runtime.wake('relay resumed in the panel');
    return { ok: true, message: 'resumed' };
  }

  async stats(): Promise<PanelStats> {
    return computeStats(this.runtime.outbox.events(), this.runtime.drops, this.now());
  }

  /** Returns the settings with signing secrets masked; saving the mask back keeps the secret. */
  async getSettings(): Promise<unknown> {
    return maskSecrets(this.runtime.settings.get());
  }

  async validateSettings(input: unknown): Promise<ValidationIssue[]> {
    const settings = restoreSecrets(input, this.runtime.settings.get());
    const parsed = SettingsSchema.safeParse(settings);
    const issues: ValidationIssue[] = parsed.success
      ? []
      : parsed.error.issues.map((issue) => {
          const field = issue.path.map(String).join('.') || '(root)';
          // zod reports a bad record key as "Invalid key in record" with the reason inside.
          const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
          return { field, message: `${field}: ${inner ?? issue.message}` };
        });

    // Checked on the input even when other fields are invalid, so every message shows at once.
    const relays = (settings as { relays?: unknown } | null)?.relays;
    const entries = typeof relays === 'object' && relays !== null ? Object.entries(relays) : [];

    for (const [id, relay] of entries) {
      const field = `relays.${id}`;
      const hasUrl = typeof (relay as { callbackUrl?: unknown } | null)?.callbackUrl === 'string';

      if (!hasUrl && !this.isKnownRelay(id) && !issues.some((issue) => issue.field === field)) {
        issues.push({
          field,
          message: `${field}: unknown relay id; use an id from Lime's relay registry or set a callbackUrl`,
        });
      }
    }

    return issues;
  }

  async saveSettings(input: unknown): Promise<SettingsResult> {
    const issues = await this.validateSettings(input);

    if (issues.length > 0) {
      return { ok: false, issues };
    }

    // SettingsStore.update notifies the runtime, which wakes the outbox.
    const settings = restoreSecrets(input, this.runtime.settings.get());
    const result = this.runtime.settings.update(settings);
    return result.ok
      ? { ok: true, settings: maskSecrets(result.settings) }
      : { ok: false, issues: [{ field: result.field, message: result.message }] };
  }

  subscribe(listener: () => void): () => void {
    const stopEvents = this.runtime.subscribe(() => listener());
    const stopSettings = this.runtime.settings.onChange(() => listener());
    return () => {
      stopEvents();
      stopSettings();
    };
  }

  private toRow(event: OutboxEvent): EventRow {
    const status = deliveryStatus(event);
    const last = event.attempts.at(-1);
    let nextAt: number | undefined;
    let waiting: EventRow['waiting'];

    if (status === 'pending' || status === 'retrying') {
      const probeAt = this.runtime.nextProbeAt(event.relay);
      nextAt = Math.max(event.nextAt, probeAt ?? 0);
      const settings = this.runtime.settings.get();

      const relay = Object.hasOwn(settings.relays, event.relay)
        ? settings.relays[event.relay]
        : undefined;

      if (!settings.enabled || relay?.paused === true) {
        waiting = 'paused';
      } else if (nextAt <= this.now()) {
        waiting = 'relay';
      }
    }

    return {
      id: event.id,
      relay: event.relay,
      ...(event.ref === undefined ? {} : { ref: event.ref }),
      outcome: event.status,
      ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode }),
      status,
      occurredAt: event.occurredAt,
      queuedAt: event.queuedAt,
      attemptCount: event.attemptCount,
      ...(nextAt === undefined ? {} : { nextAt }),
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(waiting === undefined ? {} : { waiting }),
      ...(last === undefined ? {} : { lastAttempt: toAttemptView(last) }),
      test: event.test === true,
    };
  }

  private targetProblem(
    relay: string,
    target: Extract<CallbackTarget, { ok: false }>,
  ): TargetProblem {
    const gone = target.reason === 'relay_paused' && this.runtime.settings.pausedByGone(relay);
    return { problem: target.message, code: gone ? 'relay_gone' : target.reason, relay };
  }

  private relayIds(): string[] {
    const ids = new Set(Object.keys(this.runtime.settings.get().relays));

    for (const event of this.runtime.outbox.events()) {
      ids.add(event.relay);
    }

    return [...ids].sort();
  }

  private isKnownRelay(id: string): boolean {
    try {
      const entry = this.options.relays?.get(id);
      return entry !== undefined && entry !== null;
    } catch {
      // A registry lookup that throws is treated as not knowing the relay, as delivery does.
      return false;
    }
  }
}

export function deliveryStatus(event: OutboxEvent): DeliveryStatus {
  if (event.state === 'pending') {
    return event.attemptCount > 0 ? 'retrying' : 'pending';
  }

  return event.state;
}

function toAttemptView(attempt: AttemptEntry): AttemptView {
  return {
    startedAt: attempt.startedAt,
    durationMs: attempt.durationMs,
    url: attempt.url,
    classification: attempt.classification,
    ...(attempt.httpStatus === undefined ? {} : { httpStatus: attempt.httpStatus }),
    ...(attempt.errorClass === undefined ? {} : { errorClass: attempt.errorClass }),
    ...(attempt.errorMessage === undefined ? {} : { errorMessage: attempt.errorMessage }),
    ...(attempt.location === undefined ? {} : { location: attempt.location }),
    ...(attempt.excerpt === undefined ? {} : { responseExcerpt: attempt.excerpt }),
    ...(attempt.retryAfterMs === undefined ? {} : { retryAfterMs: attempt.retryAfterMs }),
    ...(attempt.nextAt === undefined ? {} : { nextAt: attempt.nextAt }),
  };
}

/** Returns the first 16 characters of the attempt's signature: enough to match it, too few to forge. */
function shortSignature(secret: string, event: OutboxEvent, timestamp: number): string {
  try {
    const signature = new Webhook(secret).sign(event.id, new Date(timestamp * 1000), event.body);
    return `${signature.slice(0, 16)}…`;
  } catch {
    // The sender records an unusable secret as a permanent failure; the panel shows that.
    return '(invalid secret)';
  }
}

function compareIds(left: OutboxEvent, right: OutboxEvent): number {
  if (left.id === right.id) {
    return 0;
  }

  return left.id < right.id ? -1 : 1;
}
