/**
 * The one interface between the debug panel page and the plugin. The development host carries
 * it over HTTP and Server-Sent Events, Lime's Electron window over IPC; both sides share these
 * types, and every argument is checked with the schemas in bridge-schemas.ts before use.
 */

/** Delivery status shown in the log; `retrying` is a pending event with at least one attempt. */
export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead' | 'skipped';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  'pending',
  'retrying',
  'delivered',
  'dead',
  'skipped',
];

export type OutcomeStatus = 'success' | 'cancelled' | 'error';

export interface EventQuery {
  /** Statuses to show; all when absent or empty. */
  statuses?: DeliveryStatus[];
  relay?: string;
  /** Case-insensitive part of an event id or a ref. */
  search?: string;
  offset?: number;
  /** Rows per page, at most 500. Default 100. */
  limit?: number;
}

/** One row of the delivery log. Times are epoch milliseconds. */
export interface EventRow {
  id: string;
  relay: string;
  ref?: string;
  outcome: OutcomeStatus;
  errorCode?: string;
  status: DeliveryStatus;
  occurredAt: number;
  queuedAt: number;
  attemptCount: number;
  /** Next attempt of a pending or retrying event, including a wait for the relay's probe. */
  nextAt?: number;
  /** Short reason of the current status, such as `http_404` or `no_callback_url`. */
  reason?: string;
  /**
   * Why a pending or retrying event is not sent at `nextAt`: `paused` while its relay or the
   * plugin is paused, `relay` when `nextAt` has passed and the event waits for the relay's lane
   * (an attempt in flight or the probe after an outage).
   */
  waiting?: 'paused' | 'relay';
  lastAttempt?: AttemptView;
  test: boolean;
}

export interface EventPage {
  rows: EventRow[];
  /** Rows that match the query before paging. */
  total: number;
  offset: number;
  /** Events per status across the whole log, before filtering. */
  counts: Record<DeliveryStatus, number>;
  /** Every relay id seen in the log or in the settings, sorted. */
  relays: string[];
}

export interface AttemptView {
  startedAt: number;
  durationMs: number;
  url: string;
  /** `delivered`, `retry`, `permanent`, `gone` or `redirect`. */
  classification: string;
  httpStatus?: number;
  errorClass?: string;
  errorMessage?: string;
  location?: string;
  responseExcerpt?: string;
  retryAfterMs?: number;
  /** When the next attempt was planned after this one, if any. */
  nextAt?: number;
}

export interface EventDetail {
  row: EventRow;
  /** The exact body sent on every attempt; it contains `key_prefix` only, never the key. */
  body: string;
  /** Callback URL the next attempt goes to, or why there is none. */
  target: { url: string } | TargetProblem;
  /** Headers of the latest attempt (or of the next one), signature shortened. */
  headers: Record<string, string>;
  /** Longer explanation of the current status. */
  message?: string;
  attempts: AttemptView[];
}

/**
 * Why an event has no callback URL. The page translates `code` with `relay`; for other codes it
 * shows `problem`, the plugin's English message.
 */
export interface TargetProblem {
  problem: string;
  code: TargetProblemCode;
  relay: string;
}

/** `relay_paused` is a pause set in the settings, `relay_gone` a pause after `410 Gone`. */
export type TargetProblemCode =
  'relay_paused' | 'relay_gone' | 'disabled' | 'no_callback_url' | 'invalid_callback_url';

export interface ActionResult {
  ok: boolean;
  /** A code such as `not_found`, which the page translates, or a message in English. */
  message: string;
  /** The relay an action on a relay failed for. */
  relay?: string;
}

export interface TestEventResult extends ActionResult {
  eventId?: string;
}

export interface ValidationIssue {
  /** Dotted path of the field, such as `relays.acme.callbackUrl`. */
  field: string;
  message: string;
}

export type SettingsResult =
  { ok: true; settings: unknown } | { ok: false; issues: ValidationIssue[] };

export interface OutcomeCounts {
  success: number;
  cancelled: number;
  error: number;
}

/** Monitoring figures of one relay or one `ref` channel; rates are 0 to 1, or null without data. */
export interface ChannelStats {
  key: string;
  outcomes: OutcomeCounts;
  successRate: number | null;
  cancelRate: number | null;
  /** Error codes with their share of error outcomes, largest first. */
  errorCodes: Array<{ code: string; count: number; share: number }>;
  delivered: number;
  dead: number;
  /** Delivered / (delivered + dead). Pending events are not counted yet. */
  deliveryRate: number | null;
  /** Milliseconds from queueing to the delivering attempt's end. */
  latencyMedianMs: number | null;
  latencyP95Ms: number | null;
}

export interface StatsSeries {
  /** Start of each bucket, epoch seconds (uPlot's x unit). */
  times: number[];
  bucketMs: number;
  success: number[];
  cancelled: number[];
  error: number[];
  delivered: number[];
  dead: number[];
}

export interface PanelStats {
  total: ChannelStats;
  byRelay: ChannelStats[];
  byRef: ChannelStats[];
  series: StatsSeries;
  drops: { invalid: number; rateLimited: number; outboxFull: number; duplicate: number };
}

export interface PanelInfo {
  pluginVersion: string;
  /** Host locale, such as `zh-CN` or `en`. */
  locale: string;
  relays: string[];
  pausedRelays: string[];
}

export interface PanelBridge {
  info(): Promise<PanelInfo>;
  listEvents(query: EventQuery): Promise<EventPage>;
  eventDetail(id: string): Promise<EventDetail | undefined>;
  retryNow(id: string): Promise<ActionResult>;
  replay(id: string): Promise<ActionResult>;
  discard(id: string): Promise<ActionResult>;
  sendTestEvent(relay: string): Promise<TestEventResult>;
  /** The whole log as pretty JSON, ready to save as a file. */
  exportLog(): Promise<string>;
  clearDelivered(): Promise<ActionResult>;
  resumeRelay(relay: string): Promise<ActionResult>;
  stats(): Promise<PanelStats>;
  getSettings(): Promise<unknown>;
  /** Checks settings against the settings schema without saving them. */
  validateSettings(settings: unknown): Promise<ValidationIssue[]>;
  saveSettings(settings: unknown): Promise<SettingsResult>;
  /** Calls `listener` after events or settings change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** Bridge methods that take a request and return a promise, by name. */
export type BridgeMethod = Exclude<keyof PanelBridge, 'subscribe'>;
