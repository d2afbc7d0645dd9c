import type { AttemptView, DeliveryStatus, OutcomeStatus } from '../bridge.js';
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
