import type { DropCounters, OutboxEvent } from '../connect-webhook.js';
import type { ChannelStats, PanelStats, StatsSeries } from './bridge.js';

/** Number of buckets in the chart over time. */
const SERIES_BUCKETS = 48;

/** Bucket widths tried in order, so that the chart covers the whole log. */
const BUCKET_SIZES_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000];

interface Accumulator {
  key: string;
  success: number;
  cancelled: number;
  error: number;
  errorCodes: Map<string, number>;
  delivered: number;
  dead: number;
  latencies: number[];
}

/**
 * Computes the monitoring figures relays ask for, per relay and per `ref` channel, from the
 * events in the log. Test events are left out. The figures cover the events still in the log,
 * so delivered events removed by retention or "clear delivered" no longer count.
 */
export function computeStats(
  events: Iterable<OutboxEvent>,
  drops: DropCounters,
  now: number,
): PanelStats {
  const total = accumulator('all');
  const byRelay = new Map<string, Accumulator>();
  const byRef = new Map<string, Accumulator>();
  const counted: OutboxEvent[] = [];

  for (const event of events) {
    if (event.test === true) {
      continue;
    }

    counted.push(event);
    const targets = [total, entry(byRelay, event.relay), entry(byRef, event.ref ?? '(none)')];

    for (const target of targets) {
      add(target, event);
    }
  }

  return {
    total: finish(total),
    byRelay: [...byRelay.values()].map(finish).sort(byVolume),
    byRef: [...byRef.values()].map(finish).sort(byVolume),
    series: buildSeries(counted, now),
    drops: {
      invalid: drops.invalid,
      rateLimited: Object.values(drops.rateLimited).reduce((sum, count) => sum + count, 0),
      outboxFull: drops.outboxFull,
      duplicate: drops.duplicate,
    },
  };
}

/** Returns the value at quantile `q` (0 to 1) of sorted numbers, by the nearest-rank method. */
export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) {
    return null;
  }

  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

function accumulator(key: string): Accumulator {
  return {
    key,
    success: 0,
    cancelled: 0,
    error: 0,
    errorCodes: new Map(),
    delivered: 0,
    dead: 0,
    latencies: [],
  };
}

function entry(map: Map<string, Accumulator>, key: string): Accumulator {
  let found = map.get(key);

  if (found === undefined) {
    found = accumulator(key);
    map.set(key, found);
  }

  return found;
}

function add(target: Accumulator, event: OutboxEvent): void {
  target[event.status] += 1;

  if (event.status === 'error') {
    const code = event.errorCode ?? 'UNKNOWN';
    target.errorCodes.set(code, (target.errorCodes.get(code) ?? 0) + 1);
  }

  if (event.state === 'delivered') {
    target.delivered += 1;
    const latency = deliveryLatency(event);

    if (latency !== undefined) {
      target.latencies.push(latency);
    }
  }

  if (event.state === 'dead') {
    target.dead += 1;
  }
}

/** Milliseconds from queueing to the end of the attempt that delivered the event. */
function deliveryLatency(event: OutboxEvent): number | undefined {
  const delivering = event.attempts.findLast((attempt) => attempt.state === 'delivered');

  if (delivering === undefined) {
    return undefined;
  }

  return Math.max(0, delivering.startedAt + delivering.durationMs - event.queuedAt);
}

function finish(source: Accumulator): ChannelStats {
  const outcomes = source.success + source.cancelled + source.error;
  const finished = source.delivered + source.dead;
  const latencies = [...source.latencies].sort((left, right) => left - right);
  const errorCodes = [...source.errorCodes.entries()]
    .map(([code, count]) => ({ code, count, share: count / source.error }))
    .sort((left, right) => right.count - left.count || left.code.localeCompare(right.code));
  return {
    key: source.key,
    outcomes: { success: source.success, cancelled: source.cancelled, error: source.error },
    successRate: outcomes === 0 ? null : source.success / outcomes,
    cancelRate: outcomes === 0 ? null : source.cancelled / outcomes,
    errorCodes,
    delivered: source.delivered,
    dead: source.dead,
    deliveryRate: finished === 0 ? null : source.delivered / finished,
    latencyMedianMs: quantile(latencies, 0.5),
    latencyP95Ms: quantile(latencies, 0.95),
  };
}

function byVolume(left: ChannelStats, right: ChannelStats): number {
  const volume = (stats: ChannelStats) =>
    stats.outcomes.success + stats.outcomes.cancelled + stats.outcomes.error;
  return volume(right) - volume(left) || left.key.localeCompare(right.key);
}

/** Buckets outcomes by the time the user acted, with the smallest width that covers the log. */
function buildSeries(events: OutboxEvent[], now: number): StatsSeries {
  const oldest = events.reduce((min, event) => Math.min(min, event.occurredAt), now);
  const span = Math.max(1, now - oldest);
  const bucketMs =
    BUCKET_SIZES_MS.find((size) => size * SERIES_BUCKETS >= span) ?? BUCKET_SIZES_MS.at(-1)!;
  const end = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  const start = end - bucketMs * SERIES_BUCKETS;
  const series: StatsSeries = {
    times: [],
    bucketMs,
    success: [],
    cancelled: [],
    error: [],
    delivered: [],
    dead: [],
  };

  for (let index = 0; index < SERIES_BUCKETS; index += 1) {
    series.times.push((start + index * bucketMs) / 1000);
    series.success.push(0);
    series.cancelled.push(0);
    series.error.push(0);
    series.delivered.push(0);
    series.dead.push(0);
  }

  for (const event of events) {
    const index = Math.floor((event.occurredAt - start) / bucketMs);

    if (index < 0 || index >= SERIES_BUCKETS) {
      continue;
    }

    series[event.status][index] = (series[event.status][index] ?? 0) + 1;

    if (event.state === 'delivered' || event.state === 'dead') {
      series[event.state][index] = (series[event.state][index] ?? 0) + 1;
    }
  }

  return series;
}
