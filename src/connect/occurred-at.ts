import { describeType } from '../delivery/callback-url.js';

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the range a four-digit year can show. */
export const MIN_TIMESTAMP_MS = -62_167_219_200_000;
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Maximum length of a date-time string, enough for nine fractional digits and an offset. */
const MAX_DATE_TIME_LENGTH = 64;

// RFC 3339 section 5.6 `date-time`, which allows lower-case `t` and `z`. More than nine
// fractional digits and a space in place of `T` are rejected.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

export type OccurredAtResult = { ok: true; ms: number } | { ok: false; message: string };

/** Result of reading `occurredAt`. `ms` is undefined when the outcome has none. */
export type OccurredAtField = { ok: true; ms: number | undefined } | { ok: false; message: string };

/**
 * Formats epoch milliseconds as the callback's `timestamp`: RFC 3339 UTC with whole seconds and
 * `Z`, such as `2026-02-16T10:00:00Z`. Milliseconds are dropped, not rounded, so the
 * timestamp never lies after the moment it describes.
 */
export function formatTimestamp(ms: number): string {
  const seconds = Math.floor(ms / 1000) * 1000;
  return new Date(seconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Reads an outcome's `occurredAt`: an RFC 3339 date-time string with a time zone, a `Date`, or
 * absent (undefined or null). Returns epoch milliseconds. The message names no field and never
 * quotes the input.
 */
export function readOccurredAt(value: unknown): OccurredAtField {
  if (value === undefined || value === null) {
    return { ok: true, ms: undefined };
  }

  if (typeof value === 'string') {
    return parseDateTime(value);
  }

  const time = readDateObject(value);

  if (time === undefined) {
    return {
      ok: false,
      message: `expected an RFC 3339 string or a Date, received ${describeType(value)}`,
    };
  }

  if (Number.isNaN(time)) {
    return { ok: false, message: 'expected a valid Date, received an invalid Date' };
  }

  return checkRange(time);
}

/** Returns the time of a real `Date`, also from another realm, or undefined for anything else. */
function readDateObject(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }

  try {
    // getTime throws for anything without a Date's internal slot, such as an object that
    // fakes Symbol.toStringTag, so this cannot be fooled the way instanceof or toString can.
    return Date.prototype.getTime.call(value);
  } catch {
    return undefined;
  }
}

function parseDateTime(text: string): OccurredAtResult {
  const expected = 'expected an RFC 3339 date-time with a time zone, such as 2026-02-16T10:00:00Z';

  if (text.length > MAX_DATE_TIME_LENGTH) {
    return { ok: false, message: `${expected}, received ${text.length} characters` };
  }

  const match = DATE_TIME.exec(text);

  if (match === null) {
    return { ok: false, message: `${expected}, received text in another format` };
  }

  const part = (index: number): string => match[index] ?? '';
  const y = Number(part(1));
  const mo = Number(part(2));
  const d = Number(part(3));
  const h = Number(part(4));
  const mi = Number(part(5));
  const s = Number(part(6));
  const fraction = part(7);
  const sign = part(8);

  // Date.UTC would roll 2026-02-30 over into March, so the calendar date is checked first.
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) {
    return { ok: false, message: `${expected}, received a date that does not exist` };
  }

  // A leap second (second 60) is valid RFC 3339 but a JavaScript Date cannot represent it.
  if (h > 23 || mi > 59 || s > 59) {
    return { ok: false, message: `${expected}, received a time of day out of range` };
  }

  let offsetMinutes = 0;

  if (sign !== '') {
    const oh = Number(part(9));
    const om = Number(part(10));

    if (oh > 23 || om > 59) {
      return { ok: false, message: `${expected}, received a time zone offset out of range` };
    }

    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }

  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, milliseconds);

  return checkRange(utc.getTime() - offsetMinutes * 60_000);
}

/** Returns the number of days in `month` (1 to 12) of `year`, leap years included. */
function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  // Day 0 of the following month is the last day of this one. setUTCFullYear, unlike
  // Date.UTC, does not map the years 0 to 99 onto 1900 to 1999.
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/** Accepts epoch milliseconds that formatTimestamp can show with a four-digit year. */
export function checkRange(ms: number): OccurredAtResult {
  if (!Number.isFinite(ms) || ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
    return { ok: false, message: 'expected a time between the years 0000 and 9999' };
  }

  return { ok: true, ms };
}
