import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, type NewEvent } from '../../src/outbox/outbox.js';

let directory: string;
const opened: Outbox[] = [];

beforeEach(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'outbox-test-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((outbox) => outbox.close()));
  await fs.rm(directory, { recursive: true, force: true });
});

async function open(options: Parameters<typeof Outbox.open>[2] = {}): Promise<Outbox> {
  const outbox = await Outbox.open(directory, randomUUID(), options);
  opened.push(outbox);
  return outbox;
}

function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    relay: 'acme',
    ref: 'spring',
    status: 'success',
    occurredAt: Date.now(),
    body: JSON.stringify({ event: 'connect', event_id: id }),
    state: 'pending',
    ...overrides,
  };
}

const journalPath = (): string => path.join(directory, 'journal.log');

function collectWarnings(): {
  warnings: string[];
  logger: { warn(message: string): void; info(): void };
} {
  const warnings: string[] = [];
  return {
    warnings,
    logger: { warn: (message: string) => warnings.push(message), info: () => undefined },
  };
}

describe('Outbox', () => {
  it('keeps an enqueued event across a reopen', async () => {
    const first = await open();
    const event = newEvent();
    await first.enqueue(event);
    await first.close();

    const second = await open();
    const loaded = second.get(event.id);
    expect(loaded?.body).toBe(event.body);
    expect(loaded?.state).toBe('pending');
    expect(second.pendingCount).toBe(1);
  });

  it('records attempts and the resulting state', async () => {
    const outbox = await open();
    const event = newEvent();
    await outbox.enqueue(event);
    const attempt = {
      startedAt: Date.now(),
      durationMs: 12,
      url: 'https://relay.example/hook',
      classification: 'retry' as const,
      httpStatus: 503,
    };
    await outbox.recordAttempt(event.id, attempt, { state: 'pending', nextAt: Date.now() + 1000 });
    await outbox.recordAttempt(
      event.id,
      { ...attempt, classification: 'delivered', httpStatus: 200 },
      { state: 'delivered' },
    );

    const reopened = await open();
    const loaded = reopened.get(event.id);
    expect(loaded?.state).toBe('delivered');
    expect(loaded?.attemptCount).toBe(2);
    expect(loaded?.attempts.map((entry) => entry.httpStatus)).toEqual([503, 200]);
    expect(reopened.pendingCount).toBe(0);
  });

  it('finds an event by flow id and status', async () => {
    const outbox = await open();
    const event = newEvent({ flowId: 'flow-1' });
    await outbox.enqueue(event);

    expect(outbox.findByFlow('flow-1', 'success')?.id).toBe(event.id);
    expect(outbox.findByFlow('flow-1', 'cancelled')).toBeUndefined();
  });

  it('grants a claim to one of two owners', async () => {
    const first = await open();
    const second = await open();
    const event = newEvent();
    await first.enqueue(event);
    await second.refresh();

    const [firstWon, secondWon] = await Promise.all([
      first.claim(event.id, 60_000),
      second.claim(event.id, 60_000),
    ]);
    expect([firstWon, secondWon].filter(Boolean)).toHaveLength(1);
  });

  it('voids the claim of a closed owner', async () => {
    const first = await open();
    const event = newEvent();
    await first.enqueue(event);
    expect(await first.claim(event.id, 60_000)).toBe(true);
    await first.close();

    const second = await open();
    expect(second.isClaimedByOther(second.get(event.id)!)).toBe(false);
    expect(await second.claim(event.id, 60_000)).toBe(true);
  });

  it('skips a torn last record and keeps the rest', async () => {
    const first = await open();
    const kept = newEvent();
    await first.enqueue(kept);
    await first.close();
    await fs.appendFile(journalPath(), '\n{"type":"enqueue","id":"torn","own');

    const { warnings, logger } = collectWarnings();
    const second = await open({ logger });
    expect(second.get(kept.id)?.state).toBe('pending');
    expect(second.size).toBe(1);
    expect(warnings.some((warning) => warning.includes('moved unreadable'))).toBe(true);
    const quarantined = await fs.readdir(path.join(directory, 'quarantine'));
    expect(quarantined.some((name) => name.endsWith('.unreadable.json'))).toBe(true);
  });

  it('moves a record that fails the schema aside', async () => {
    const first = await open();
    const before = newEvent();
    await first.enqueue(before);
    await first.close();
    await fs.appendFile(journalPath(), '\n{"type":"enqueue","id":"bad","relay":42}\n');
    const again = await open();
    const after = newEvent();
    await again.enqueue(after);
    await again.close();

    const reopened = await open({ logger: collectWarnings().logger });
    expect(reopened.get(before.id)).toBeDefined();
    expect(reopened.get(after.id)).toBeDefined();
    expect(reopened.get('bad')).toBeUndefined();
    const report = (await fs.readdir(path.join(directory, 'quarantine'))).find((name) =>
      name.endsWith('.json'),
    );
    const reasons = JSON.parse(
      await fs.readFile(path.join(directory, 'quarantine', report!), 'utf8'),
    ) as Array<{ reason: string }>;
    expect(reasons.some((entry) => entry.reason.includes('journal schema'))).toBe(true);
  });

  it('starts on a journal of NUL bytes and keeps its copy', async () => {
    await fs.writeFile(journalPath(), Buffer.alloc(4096));
    const outbox = await open({ logger: collectWarnings().logger });
    expect(outbox.size).toBe(0);

    const event = newEvent();
    await outbox.enqueue(event);
    const copies = await fs.readdir(path.join(directory, 'quarantine'));
    const copy = copies.find((name) => name.endsWith('.log'));
    expect((await fs.stat(path.join(directory, 'quarantine', copy!))).size).toBe(4096);

    const reopened = await open();
    expect(reopened.get(event.id)).toBeDefined();
  });

  it('starts on an empty journal file', async () => {
    await fs.writeFile(journalPath(), '');
    const outbox = await open();
    expect(outbox.size).toBe(0);
  });

  it('compacts without losing pending events', async () => {
    const outbox = await open({ retention: { deliveredMaxCount: 2 } });
    const events = Array.from({ length: 6 }, () => newEvent());

    for (const event of events) {
      await outbox.enqueue(event);
    }

    const attempt = {
      startedAt: Date.now(),
      durationMs: 1,
      url: 'https://relay.example/hook',
      classification: 'delivered' as const,
      httpStatus: 200,
    };

    for (const event of events.slice(0, 4)) {
      await outbox.recordAttempt(event.id, attempt, { state: 'delivered' });
    }

    await outbox.compact();
    const reopened = await open();
    const states = events.map((event) => reopened.get(event.id)?.state);
    expect(states.filter((state) => state === 'pending')).toHaveLength(2);
    expect(states.filter((state) => state === 'delivered')).toHaveLength(2);
    expect(states.filter((state) => state === undefined)).toHaveLength(2);
  });

  it('compacts a grown journal when asked while idle', async () => {
    const outbox = await open({ retention: { deliveredMaxCount: 100 } });
    const attempt = {
      startedAt: Date.now(),
      durationMs: 1,
      url: 'https://relay.example/hook',
      classification: 'delivered' as const,
      httpStatus: 200,
    };

    for (let index = 0; index < 3000; index += 1) {
      const event = newEvent();
      await outbox.enqueue(event);
      await outbox.recordAttempt(event.id, attempt, { state: 'delivered' });
    }

    expect(outbox.needsCompaction()).toBe(true);
    outbox.compactIfNeeded();
    await outbox.close();
    const lines = (await fs.readFile(journalPath(), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(4000);

    const reopened = await open();
    expect(reopened.size).toBeLessThan(3000);
  });

  it('keeps records appended by another owner during a compaction', async () => {
    const compactor = await open();
    const writer = await open();
    const early = newEvent();
    await compactor.enqueue(early);
    const late = Array.from({ length: 20 }, () => newEvent());

    await Promise.all([compactor.compact(), ...late.map((event) => writer.enqueue(event))]);
    const reopened = await open();

    for (const event of [early, ...late]) {
      expect(reopened.get(event.id)?.state).toBe('pending');
    }
  });

  it('appends one line per enqueue, never rewriting', async () => {
    const outbox = await open();

    for (let index = 0; index < 300; index += 1) {
      await outbox.enqueue(newEvent());
    }

    expect(outbox.pendingCount).toBe(300);
    const text = await fs.readFile(journalPath(), 'utf8');
    expect(text.split('\n').filter((line) => line.length > 0)).toHaveLength(300);
  });
});
