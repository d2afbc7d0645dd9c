import type {
  AttemptView,
  DeliveryStatus,
  EventRow,
  OutcomeStatus,
  TargetProblem,
  TargetProblemCode,
} from '../bridge.js';
import type { MessageKey, Translate } from './messages.js';

export const STATUS_KEYS: Record<DeliveryStatus, MessageKey> = {
  pending: 'statusPending',
  retrying: 'statusRetrying',
  delivered: 'statusDelivered',
  dead: 'statusDead',
  skipped: 'statusSkipped',
};

export const OUTCOME_KEYS: Record<OutcomeStatus, MessageKey> = {
  success: 'outcomeSuccess',
  cancelled: 'outcomeCancelled',
  error: 'outcomeError',
};

/** Reasons recorded by the plugin that the page shows as a sentence in its language. */
const REASON_KEYS: Record<string, MessageKey> = {
  relay_paused: 'reasonRelayPaused',
  disabled: 'reasonDisabled',
  // The scheduler records this text on an event that a `410 Gone` reply made dead.
  '410 Gone: the relay was paused': 'reasonGone',
};

const TARGET_KEYS: Partial<Record<TargetProblemCode, MessageKey>> = {
  relay_paused: 'targetRelayPaused',
  relay_gone: 'targetRelayGone',
  disabled: 'targetDisabled',
};

/** Translates a known reason code; returns undefined for others, which the page shows as sent. */
export function translateReason(t: Translate, reason: string): string | undefined {
  const key = Object.hasOwn(REASON_KEYS, reason) ? REASON_KEYS[reason] : undefined;
  return key === undefined ? undefined : t(key);
}

/** Says why an event has no callback URL, in the panel's language where the code is known. */
export function describeTarget(t: Translate, target: TargetProblem): string {
  const key = TARGET_KEYS[target.code];
  return key === undefined ? target.problem : t(key, { relay: target.relay });
}

/** Formats when a pending or retrying event is sent next, or what it waits for. */
export function describeNext(t: Translate, row: EventRow, now: number, locale: string): string {
  if (row.waiting === 'paused') {
    return t('waitingPaused');
  }

  if (row.waiting === 'relay') {
    return t('waitingRelay');
  }

  return row.nextAt === undefined ? '' : formatNext(t, row.nextAt, now, locale);
}

/** Formats how long ago `time` was, as "12 s ago". */
export function formatAge(t: Translate, time: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - time) / 1000));

  if (seconds < 90) {
    return t('ageSeconds', { n: seconds });
  }

  if (seconds < 90 * 60) {
    return t('ageMinutes', { n: Math.round(seconds / 60) });
  }

  if (seconds < 36 * 3600) {
    return t('ageHours', { n: Math.round(seconds / 3600) });
  }

  return t('ageDays', { n: Math.round(seconds / 86_400) });
}

/** Formats a future time as "in 12 s" followed by the clock time. */
export function formatNext(t: Translate, time: number, now: number, locale: string): string {
  const seconds = Math.round((time - now) / 1000);
  const clock = formatClock(time, locale);

  if (seconds <= 0) {
    return `${t('now')} (${clock})`;
  }

  if (seconds < 90) {
    return `${t('inSeconds', { n: seconds })} (${clock})`;
  }

  if (seconds < 90 * 60) {
    return `${t('inMinutes', { n: Math.round(seconds / 60) })} (${clock})`;
  }

  return `${t('inHours', { n: Math.round(seconds / 3600) })} (${clock})`;
}

export function formatClock(time: number, locale: string): string {
  return new Date(time).toLocaleTimeString(locale, { hour12: false });
}

export function formatDateTime(time: number, locale: string): string {
  return new Date(time).toLocaleString(locale, { hour12: false });
}

/** Describes an attempt's result: "HTTP 503", or the error class and message. */
export function describeAttempt(t: Translate, attempt: AttemptView): string {
  const parts: string[] = [];

  if (attempt.httpStatus !== undefined) {
    parts.push(t('httpStatus', { status: attempt.httpStatus }));
  }

  // `http_status` only repeats the status shown before it.
  if (attempt.errorClass !== undefined && attempt.errorClass !== 'http_status') {
    parts.push(attempt.errorClass);
  }

  if (attempt.location !== undefined) {
    parts.push(t('redirectTo', { location: attempt.location }));
  }

  if (attempt.errorMessage !== undefined && attempt.httpStatus === undefined) {
    parts.push(attempt.errorMessage);
  }

  return parts.join(' · ');
}

export function formatPercent(value: number | null, t: Translate): string {
  return value === null ? t('noData') : `${(value * 100).toFixed(1)}%`;
}

export function formatMs(value: number | null, t: Translate): string {
  if (value === null) {
    return t('noData');
  }

  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}
