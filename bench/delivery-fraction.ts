// Delivered fraction of outcomes during relay outages, for this plugin and for Lime's built-in
// sender, on a virtual clock. The plugin side runs the real outbox (a real journal in a temp
// folder), the real DeliveryScheduler and the real backoff with the default retry settings.
// Only `send` is simulated, and only setTimeout/clearTimeout are faked, so file I/O is real.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import FakeTimers from '@sinonjs/fake-timers';
import type { AttemptResult } from '../src/delivery/sender.js';
import { Outbox } from '../src/outbox/outbox.js';
import { DeliveryScheduler } from '../src/outbox/scheduler.js';
import { DEFAULT_SETTINGS } from '../src/settings/settings-schema.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Lime's built-in sender: attempts at these offsets after the outcome, kept in memory only. */
export const LIME_ATTEMPT_OFFSETS_MS = [0, MINUTE, 5 * MINUTE, 30 * MINUTE];

export const OUTAGES: { label: string; ms: number }[] = [
  { label: '1 minute', ms: MINUTE },
  { label: '10 minutes', ms: 10 * MINUTE },
  { label: '1 hour', ms: HOUR },
  { label: '1 day', ms: 24 * HOUR },
];

/** Outcomes per scenario, spread evenly over the outage. */
const OUTCOMES = 40;

export interface FractionRow {
  outage: string;
  lime: number;
  plugin: number;
  limeRestart: number;
  pluginRestart: number;
  /** Maximum wait of a plugin delivery after the relay came back, without a restart. */
  pluginMaxLagMs: number;
}

/** Times at which outcomes happen: evenly inside the outage [0, outageMs). */
function outcomeTimes(outageMs: number): number[] {
  return Array.from({ length: OUTCOMES }, (_, index) => ((index + 0.5) * outageMs) / OUTCOMES);
}

/**
 * Lime's built-in sender: an outcome is delivered when one of its attempts falls outside the
 * outage while the app that keeps it in memory is still running; a restart at `restartAt`
 * drops every attempt scheduled after it for outcomes that happened before it.
 */
export function limeFraction(outageMs: number, restartAt?: number): number {
  let delivered = 0;

  for (const at of outcomeTimes(outageMs)) {
    const ok = LIME_ATTEMPT_OFFSETS_MS.some((offset) => {
      const attemptAt = at + offset;
      const lostInRestart = restartAt !== undefined && at < restartAt && attemptAt >= restartAt;
      return attemptAt >= outageMs && !lostInRestart;
    });
    delivered += ok ? 1 : 0;
  }

  return delivered / OUTCOMES;
}

const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Runs the plugin's outbox and scheduler through one outage; returns fraction and lag. */
export async function pluginFraction(
  outageMs: number,
  restartAt?: number,
): Promise<{ fraction: number; maxLagMs: number }> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-fraction-'));
  const clock = FakeTimers.install({ now: 0, toFake: ['setTimeout', 'clearTimeout'] });
  const now = () => clock.now;
  const { retry } = DEFAULT_SETTINGS;
  const deliveredAt = new Map<string, number>();
  const busy = new Set<Promise<unknown>>();
  let seed = 42;
  // A fixed-seed generator keeps the jitter, and so the figures, the same on every run.
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  const track = (work: Promise<unknown>) => {
    busy.add(work);
    void work.finally(() => busy.delete(work));
  };

  const send = async (request: { eventId: string }): Promise<AttemptResult> => {
    const at = now();
    const up = at >= outageMs;

    if (up && !deliveredAt.has(request.eventId)) {
      deliveredAt.set(request.eventId, at);
    }

    return up
      ? { startedAt: at, durationMs: 0, classification: 'delivered', httpStatus: 200 }
      : {
          startedAt: at,
          durationMs: 0,
          classification: 'retry',
          httpStatus: 503,
          errorClass: 'http_status',
        };
  };

  const startRuntime = async () => {
    const outbox = await Outbox.open(folder, randomUUID(), { now });
    const scheduler = new DeliveryScheduler({
      outbox,
      send,
      resolveTarget: () => ({ ok: true, url: 'https://relay.invalid/hook', source: 'settings' }),
      retryTiming: () => ({
        initialDelayMs: retry.initialDelayMs,
        maxDelayMs: retry.maxDelayMs,
        maxAgeMs: retry.maxAgeHours * HOUR,
      }),
      leaseMs: () => 40_000,
      onRelayGone: () => undefined,
      logger: silentLogger,
      now,
      random,
    });
    outbox.onChange = (ids) => scheduler.onEventsChanged(ids);
    scheduler.start();
    return { outbox, scheduler };
  };

  let runtime = await startRuntime();

  /** Waits (in real time) until no file I/O or attempt of the simulation is running. */
  const settle = async () => {
    for (let quiet = 0; quiet < 3;) {
      await new Promise((resolve) => setImmediate(resolve));
      const idle = busy.size === 0 && runtime.scheduler.status().inFlight === 0;
      quiet = idle ? quiet + 1 : 0;

      if (!idle) {
        await Promise.all([...busy]);
      }
    }
  };

  try {
    for (const [index, at] of outcomeTimes(outageMs).entries()) {
      clock.setTimeout(() => {
        const id = randomUUID();
        track(
          runtime.outbox.enqueue({
            id,
            relay: 'acme',
            status: 'success',
            occurredAt: at,
            body: JSON.stringify({ event: 'connect', status: 'success', index }),
            state: 'pending',
          }),
        );
      }, at);
    }

    if (restartAt !== undefined) {
      clock.setTimeout(() => {
        const previous = runtime;
        track(
          (async () => {
            await previous.scheduler.stop(0);
            await previous.outbox.close();
            runtime = await startRuntime();
          })(),
        );
      }, restartAt);
    }

    // Past the last possible expiry, every event is delivered or dead.
    const end = outageMs + retry.maxAgeHours * HOUR + 2 * HOUR;

    for (;;) {
      await settle();

      if (clock.countTimers() === 0 || clock.now > end) {
        break;
      }

      clock.next();
    }

    let maxLagMs = 0;

    for (const at of deliveredAt.values()) {
      maxLagMs = Math.max(maxLagMs, at - outageMs);
    }

    return { fraction: deliveredAt.size / OUTCOMES, maxLagMs };
  } finally {
    await runtime.scheduler.stop(0);
    await runtime.outbox.close();
    clock.uninstall();
    await fs.rm(folder, { recursive: true, force: true });
  }
}

export async function simulateDeliveryFractions(): Promise<FractionRow[]> {
  const rows: FractionRow[] = [];

  for (const outage of OUTAGES) {
    const restartAt = outage.ms / 2;
    const plugin = await pluginFraction(outage.ms);
    const pluginRestart = await pluginFraction(outage.ms, restartAt);
    rows.push({
      outage: outage.label,
      lime: limeFraction(outage.ms),
      plugin: plugin.fraction,
      limeRestart: limeFraction(outage.ms, restartAt),
      pluginRestart: pluginRestart.fraction,
      pluginMaxLagMs: plugin.maxLagMs,
    });
  }

  return rows;
}
