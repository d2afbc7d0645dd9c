/** Delays of the retry schedule, in milliseconds, as the `retry` settings define them. */
export interface RetryTiming {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Parses a `Retry-After` header (RFC 9110, section 10.2.3) as delta-seconds or an HTTP-date.
 * Returns the delay in milliseconds from `now`, capped at `maxDelayMs`, or undefined when the
 * header is absent, negative or not in either form. A date in the past returns 0. Of a
 * repeated header, the first value counts.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
  maxDelayMs: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();

  if (text === undefined || text === '') {
    return undefined;
  }

  // delay-seconds = 1*DIGIT. Date.parse is not used on it because V8 reads "7" as a year.
  if (/^\d+$/.test(text)) {
    return Math.min(Number(text) * 1000, maxDelayMs);
  }

  const date = parseHttpDate(text, now);

  if (date === undefined) {
    return undefined;
  }

  return Math.min(Math.max(date - now, 0), maxDelayMs);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY_NAME = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT`, the form senders must use. */
const IMF_FIXDATE = new RegExp(`^${DAY_NAME}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);

/** `Sunday, 06-Nov-94 08:49:37 GMT`, the obsolete RFC 850 form. */
const RFC_850_DATE = new RegExp(`^${LONG_DAY_NAME}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);

/** `Sun Nov  6 08:49:37 1994`, the obsolete ANSI C asctime() form. */
const ASCTIME_DATE = new RegExp(`^${DAY_NAME} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * Parses the three HTTP-date forms that recipients must accept (RFC 9110, section 5.6.7) to
 * epoch milliseconds. The weekday is not checked against the date, as the RFC allows.
 */
function parseHttpDate(text: string, now: number): number | undefined {
  let match = IMF_FIXDATE.exec(text);

  if (match) {
    const [, day, month, year, hour, minute, second] = match;
    return toEpoch(Number(year), month, Number(day), hour, minute, second);
  }

  match = RFC_850_DATE.exec(text);

  if (match) {
    const [, day, month, shortYear, hour, minute, second] = match;
    const year = expandTwoDigitYear(Number(shortYear), now);
    return toEpoch(year, month, Number(day), hour, minute, second);
  }

  match = ASCTIME_DATE.exec(text);

  if (match) {
    const [, month, day, hour, minute, second, year] = match;
    return toEpoch(Number(year), month, Number(day), hour, minute, second);
  }

  return undefined;
}

/**
 * Reads a two-digit RFC 850 year as RFC 9110 requires. A year that would be more than 50 years in
 * the future of `now` is the most recent past year with the same last two digits.
 */
function expandTwoDigitYear(shortYear: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  const century = Math.floor(thisYear / 100) * 100;
  const year = century + shortYear;
  return year > thisYear + 50 ? year - 100 : year;
}

function toEpoch(
  year: number,
  monthName: string | undefined,
  day: number,
  hourText: string | undefined,
  minuteText: string | undefined,
  secondText: string | undefined,
): number | undefined {
  const month = MONTHS.indexOf(monthName ?? '');
  const hour = Number(hourText);
  const minute = Number(minuteText);
  // A leap second (60) is read as the following second.
  const second = Number(secondText);

  if (month < 0 || hour > 23 || minute > 59 || second > 60 || day < 1) {
    return undefined;
  }

  const epoch = Date.UTC(year, month, day, hour, minute, second);

  // Date.UTC rolls 31 Feb over into March, and such a date is not a valid HTTP-date.
  if (new Date(epoch).getUTCDate() !== day && second !== 60) {
    return undefined;
  }

  return epoch;
}

/**
 * Computes the delay before the next attempt with exponential backoff and "equal jitter":
 *
 *     ceiling = min(maxDelayMs, initialDelayMs * 2 ** (failedAttempts - 1))
 *     delay   = ceiling / 2 + random() * ceiling / 2
 *
 * So the first retry waits between initialDelayMs / 2 and initialDelayMs, each further failure
 * doubles the range, and no delay exceeds maxDelayMs. Half of the range is random so that
 * clients that failed together do not retry together. A `failedAttempts` below 1 counts as 1.
 * The result is rounded to whole milliseconds.
 */
export function backoffDelay(
  failedAttempts: number,
  timing: RetryTiming,
  random: () => number = Math.random,
): number {
  const attempts = Number.isFinite(failedAttempts) ? Math.max(Math.floor(failedAttempts), 1) : 1;
  const maxDelay = Math.max(timing.maxDelayMs, 0);
  // Past 2 ** 52 the doubling can only reach the cap, so the exponent stops there.
  const exponent = Math.min(attempts - 1, 52);
  const ceiling = Math.min(maxDelay, Math.max(timing.initialDelayMs, 0) * 2 ** exponent);
  const draw = Math.min(Math.max(random(), 0), 1);
  const delay = ceiling / 2 + (draw * ceiling) / 2;
  return Math.min(Math.round(delay), maxDelay);
}

/** Outcome class of a delivery attempt: the next step for its event. */
export type ResponseClass = 'delivered' | 'retry' | 'permanent' | 'gone' | 'redirect';

/**
 * Maps an HTTP status to the outbox's next step:
 *
 * - 2xx `delivered`.
 * - 408, 425, 429 and 5xx `retry`, because the relay may recover.
 * - 410 `gone`. The event is dead and the relay is paused until the user resumes it.
 * - 3xx `redirect`. Redirects are never followed, so a relay cannot send a signed callback on
 *   to another host. The outbox treats a redirect as a permanent failure and shows the
 *   `Location`, because the same URL would get the same response until the user updates it.
 * - Any other status (1xx, other 4xx, anything outside 100 to 599) `permanent`.
 */
export function classifyStatus(status: number): ResponseClass {
  if (status >= 200 && status <= 299) {
    return 'delivered';
  }

  if (status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599)) {
    return 'retry';
  }

  if (status === 410) {
    return 'gone';
  }

  if (status >= 300 && status <= 399) {
    return 'redirect';
  }

  return 'permanent';
}
