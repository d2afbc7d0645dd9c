import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyStatus, parseRetryAfter } from '../../src/delivery/retry-policy.js';

const NOW = Date.UTC(2026, 1, 16, 10, 0, 0);
const HOUR = 3_600_000;

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', NOW, HOUR)).toBe(7000);
    expect(parseRetryAfter(' 120 ', NOW, HOUR)).toBe(120_000);
    expect(parseRetryAfter('0', NOW, HOUR)).toBe(0);
  });

  it('caps delta-seconds at the maximum delay', () => {
    expect(parseRetryAfter('86400', NOW, HOUR)).toBe(HOUR);
    expect(parseRetryAfter('99999999999999999999', NOW, HOUR)).toBe(HOUR);
  });

  it('reads an IMF-fixdate', () => {
    const value = new Date(NOW + 90_000).toUTCString();

    expect(value).toMatch(/GMT$/);
    expect(parseRetryAfter(value, NOW, HOUR)).toBe(90_000);
  });

  it('reads the obsolete RFC 850 and asctime dates', () => {
    expect(parseRetryAfter('Monday, 16-Feb-26 10:00:30 GMT', NOW, HOUR)).toBe(30_000);
    expect(parseRetryAfter('Mon Feb 16 10:01:00 2026', NOW, HOUR)).toBe(60_000);
    expect(parseRetryAfter('Mon Feb  1 10:00:00 2027', NOW, 400 * 24 * HOUR)).toBe(
      Date.UTC(2027, 1, 1, 10) - NOW,
    );
  });

  it('returns 0 for a date in the past', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW, HOUR)).toBe(0);
  });

  it('caps a distant date at the maximum delay', () => {
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', NOW, HOUR)).toBe(HOUR);
  });

  it.each([
    undefined,
    '',
    '   ',
    '-5',
    '1.5',
    '7s',
    'soon',
    '+7',
    'Mon, 31 Feb 2026 10:00:00 GMT',
    'Mon, 16 Feb 2026 25:00:00 GMT',
    'Mon, 16 Feb 2026 10:00:00 PST',
    '2026-02-16T10:00:30Z',
  ])('ignores %j', (value) => {
    expect(parseRetryAfter(value, NOW, HOUR)).toBeUndefined();
  });

  it('takes the first of repeated values', () => {
    expect(parseRetryAfter(['3', '9'], NOW, HOUR)).toBe(3000);
    expect(parseRetryAfter([], NOW, HOUR)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const timing = { initialDelayMs: 1000, maxDelayMs: 60_000 };

  it('waits half to all of the initial delay after one failure', () => {
    expect(backoffDelay(1, timing, () => 0)).toBe(500);
    expect(backoffDelay(1, timing, () => 0.5)).toBe(750);
    expect(backoffDelay(1, timing, () => 0.999999)).toBe(1000);
  });

  it('doubles the range per failure', () => {
    expect(backoffDelay(2, timing, () => 0)).toBe(1000);
    expect(backoffDelay(2, timing, () => 0.999999)).toBe(2000);
    expect(backoffDelay(3, timing, () => 0)).toBe(2000);
    expect(backoffDelay(5, timing, () => 0.999999)).toBe(16_000);
  });

  it('caps the delay at the maximum', () => {
    expect(backoffDelay(7, timing, () => 0.999999)).toBe(60_000);
    expect(backoffDelay(7, timing, () => 0)).toBe(30_000);
    expect(backoffDelay(10_000, timing, () => 1)).toBe(60_000);
  });

  it('treats fewer than one failure as one', () => {
    expect(backoffDelay(0, timing, () => 0)).toBe(500);
    expect(backoffDelay(-3, timing, () => 0)).toBe(500);
    expect(backoffDelay(Number.NaN, timing, () => 0)).toBe(500);
  });

  it('clamps a random source outside 0 to 1', () => {
    expect(backoffDelay(1, timing, () => -1)).toBe(500);
    expect(backoffDelay(1, timing, () => 2)).toBe(1000);
  });

  it('stays between half the initial delay and the maximum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 100, max: 3_600_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failedAttempts, initialDelayMs, extra, draw) => {
          const bounds = { initialDelayMs, maxDelayMs: initialDelayMs + extra };
          const delay = backoffDelay(failedAttempts, bounds, () => draw);

          expect(delay).toBeGreaterThanOrEqual(Math.floor(initialDelayMs / 2));
          expect(delay).toBeLessThanOrEqual(bounds.maxDelayMs);
        },
      ),
    );
  });

  it('spreads delays with the default random source', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4, timing)));

    expect(delays.size).toBeGreaterThan(1);

    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(4000);
      expect(delay).toBeLessThanOrEqual(8000);
    }
  });
});

describe('classifyStatus', () => {
  it.each([
    [200, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [408, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
    [410, 'gone'],
    [301, 'redirect'],
    [302, 'redirect'],
    [307, 'redirect'],
    [308, 'redirect'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
    [101, 'permanent'],
    [600, 'permanent'],
  ] as const)('classifies %i as %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });
});
