import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptResult } from '../../src/delivery/sender.js';
import { JournalFile } from '../../src/outbox/journal-file.js';
import { Outbox, type NewEvent } from '../../src/outbox/outbox.js';
import { DeliveryScheduler } from '../../src/outbox/scheduler.js';

let directory: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'batch-delivery-test-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }

  await fs.rm(directory, { recursive: true, force: true });
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function newEvent(): NewEvent {
  const id = randomUUID();
  return {
    id,
    relay: 'acme',
    status: 'success',
    occurredAt: Date.now(),
    body: JSON.stringify({ event: 'connect', event_id: id }),
    state: 'pending',
  };
}

async function openOutbox(): Promise<Outbox> {
  const outbox = await Outbox.open(directory, randomUUID());
  cleanups.push(() => outbox.close());
  return outbox;
}

function startScheduler(
  outbox: Outbox,
  send: (eventId: string) => Promise<AttemptResult>,
  onIdle?: () => void,
): DeliveryScheduler {
  const scheduler = new DeliveryScheduler({
    outbox,
    send: (request) => send(request.eventId),
    resolveTarget: () => ({ ok: true, url: 'https://relay.invalid/hook', source: 'settings' }),
    retryTiming: () => ({ initialDelayMs: 10, maxDelayMs: 100, maxAgeMs: 3_600_000 }),
    leaseMs: () => 35_000,
    onRelayGone: () => undefined,
    logger: silent,
    onIdle,
  });
  outbox.onChange = (ids) => scheduler.onEventsChanged(ids);
  scheduler.start();
  cleanups.push(() => scheduler.stop());
  return scheduler;
}

const delivered = (): AttemptResult => ({
  startedAt: Date.now(),
  durationMs: 1,
  classification: 'delivered',
  httpStatus: 200,
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;

  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }

    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('batch delivery', () => {
  it('records every delivery of a backlog', async () => {
    const outbox = await openOutbox();
    const events = Array.from({ length: 120 }, newEvent);
    await Promise.all(events.map((event) => outbox.enqueue(event)));
    let idleCalls = 0;
    const sent: string[] = [];
    startScheduler(
      outbox,
      async (eventId) => {
        sent.push(eventId);
        return delivered();
      },
      () => (idleCalls += 1),
    );

    await waitFor(() => idleCalls > 0);

    expect(sent.sort()).toEqual(events.map((event) => event.id).sort());
    expect(outbox.pendingCount).toBe(0);

    for (const event of events) {
      expect(outbox.get(event.id)?.state).toBe('delivered');
    }
  });

  it('keeps delivered states across a reopen', async () => {
    const outbox = await openOutbox();
    const events = Array.from({ length: 40 }, newEvent);
    await Promise.all(events.map((event) => outbox.enqueue(event)));
    let idle = false;
    const scheduler = startScheduler(
      outbox,
      async () => delivered(),
      () => (idle = true),
    );
    await waitFor(() => idle);
    await scheduler.stop();
    await outbox.close();

    const reopened = await openOutbox();

    expect(reopened.pendingCount).toBe(0);
    expect([...reopened.events()].every((event) => event.state === 'delivered')).toBe(true);
  });

  it('never sends one event from two owners at once', async () => {
    const first = await openOutbox();
    const second = await openOutbox();
    const events = Array.from({ length: 150 }, newEvent);
    await Promise.all(events.map((event) => first.enqueue(event)));
    await second.refresh();
    const inFlight = new Set<string>();
    const sendCounts = new Map<string, number>();
    const overlaps: string[] = [];
    const send = async (eventId: string): Promise<AttemptResult> => {
      if (inFlight.has(eventId)) {
        overlaps.push(eventId);
      }

      inFlight.add(eventId);
      sendCounts.set(eventId, (sendCounts.get(eventId) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight.delete(eventId);
      return delivered();
    };
    startScheduler(first, send);
    startScheduler(second, send);

    await waitFor(() => sendCounts.size === events.length && inFlight.size === 0);
    await first.refresh();

    expect(overlaps).toEqual([]);
    expect([...sendCounts.values()].every((count) => count === 1)).toBe(true);
  });

  it('calls onIdle once the last event is delivered', async () => {
    const outbox = await openOutbox();
    let idleCalls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    startScheduler(
      outbox,
      async () => {
        await gate;
        return delivered();
      },
      () => (idleCalls += 1),
    );
    await outbox.enqueue(newEvent());
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(idleCalls).toBe(0);

    release();
    await waitFor(() => idleCalls > 0);

    expect(outbox.pendingCount).toBe(0);
  });
});

describe('JournalFile', () => {
  it('reports a record written before its sync resolves', async () => {
    const journal = new JournalFile(path.join(directory, 'journal.log'));
    await journal.open();
    cleanups.push(() => journal.close());
    const order: string[] = [];

    await journal.append('{"a":1}', true, () => order.push('written'));
    order.push('durable');

    expect(order).toEqual(['written', 'durable']);
  });

  it('reads records larger than one read chunk whole', async () => {
    const journal = new JournalFile(path.join(directory, 'journal.log'));
    await journal.open();
    cleanups.push(() => journal.close());
    const large = JSON.stringify({ text: 'x'.repeat(300_000) });
    const small = JSON.stringify({ text: 'y' });

    await journal.append(large, true);
    await journal.append(small, false);
    const { lines } = await journal.readNew();

    expect(lines.map((line) => line.text)).toEqual([large, small]);
  });

  it('reads nothing when no record was added', async () => {
    const journal = new JournalFile(path.join(directory, 'journal.log'));
    await journal.open();
    cleanups.push(() => journal.close());
    await journal.append('{"a":1}', false);
    await journal.readNew();

    const { lines } = await journal.readNew();

    expect(lines).toEqual([]);
  });
});
