import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/connect-webhook.js';
import { computeStats, quantile } from '../../src/panel/panel-stats.js';

const NOW = Date.UTC(2026, 1, 16, 12, 0, 0);
const DROPS = { invalid: 1, rateLimited: { acme: 2, other: 3 }, outboxFull: 0, duplicate: 4 };

function event(overrides: Partial<OutboxEvent>): OutboxEvent {
  return {
    id: 'id',
    relay: 'acme',
    status: 'success',
    occurredAt: NOW - 60_000,
    queuedAt: NOW - 60_000,
    body: '{}',
    state: 'pending',
    attempts: [],
    attemptCount: 0,
    failures: 0,
    nextAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

function delivered(latencyMs: number, overrides: Partial<OutboxEvent> = {}): OutboxEvent {
  const queuedAt = NOW - 60_000;
  return event({
    state: 'delivered',
    queuedAt,
    attempts: [
      {
        startedAt: queuedAt + latencyMs - 10,
        durationMs: 10,
        url: 'https://relay.example/hook',
        classification: 'delivered',
        httpStatus: 200,
        state: 'delivered',
      },
    ],
    ...overrides,
  });
}

describe('computeStats', () => {
  it('computes success and cancel rates per ref', () => {
    const stats = computeStats(
      [
        delivered(100, { ref: 'spring' }),
        delivered(100, { ref: 'spring', status: 'cancelled' }),
        delivered(100, { ref: 'autumn', status: 'cancelled' }),
        delivered(100, { ref: 'spring' }),
      ],
      DROPS,
      NOW,
    );
    const spring = stats.byRef.find((channel) => channel.key === 'spring');

    expect(spring?.successRate).toBeCloseTo(2 / 3);
    expect(spring?.cancelRate).toBeCloseTo(1 / 3);
    expect(stats.total.cancelRate).toBe(0.5);
  });

  it('ranks error codes by share', () => {
    const stats = computeStats(
      [
        event({ status: 'error', errorCode: 'STORE_WRITE_FAILED' }),
        event({ status: 'error', errorCode: 'RELAY_UNKNOWN' }),
        event({ status: 'error', errorCode: 'STORE_WRITE_FAILED' }),
        event({ status: 'error', errorCode: 'STORE_WRITE_FAILED' }),
      ],
      DROPS,
      NOW,
    );

    expect(stats.total.errorCodes).toEqual([
      { code: 'STORE_WRITE_FAILED', count: 3, share: 0.75 },
      { code: 'RELAY_UNKNOWN', count: 1, share: 0.25 },
    ]);
  });

  it('reports delivery rate and latency percentiles', () => {
    const latencies = Array.from({ length: 20 }, (_, index) => (index + 1) * 100);
    const stats = computeStats(
      [...latencies.map((latency) => delivered(latency)), event({ state: 'dead' })],
      DROPS,
      NOW,
    );

    expect(stats.total.deliveryRate).toBeCloseTo(20 / 21);
    expect(stats.total.latencyMedianMs).toBe(1000);
    expect(stats.total.latencyP95Ms).toBe(1900);
  });

  it('leaves test events out', () => {
    const stats = computeStats([delivered(100, { test: true })], DROPS, NOW);

    expect(stats.total.successRate).toBeNull();
    expect(stats.byRelay).toEqual([]);
  });

  it('buckets outcomes over time', () => {
    const stats = computeStats([delivered(100), event({ status: 'cancelled' })], DROPS, NOW);
    const { series } = stats;

    expect(series.bucketMs).toBe(60_000);
    expect(series.times).toHaveLength(48);
    expect(series.success.reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(series.cancelled.reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(series.delivered.reduce((sum, count) => sum + count, 0)).toBe(1);
  });

  it('sums rate-limited drops over relays', () => {
    expect(computeStats([], DROPS, NOW).drops.rateLimited).toBe(5);
  });
});

describe('quantile', () => {
  it('uses the nearest rank', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([5], 0.95)).toBe(5);
    expect(quantile([], 0.5)).toBeNull();
  });
});
