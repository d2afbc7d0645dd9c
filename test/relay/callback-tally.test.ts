import { beforeAll, describe, expect, it } from 'vitest';
import { CallbackReceiver } from '../../src/relay/callback-receiver.js';
import { CallbackTally } from '../../src/relay/callback-tally.js';
import {
  asCallbackRequest,
  collectCallbacks,
  TEST_SECRET,
  type FiredOutcome,
} from './plugin-callbacks.js';

const KEY = 'sk-tally-0123456789abcdef';

function outcome(
  hook: FiredOutcome['hook'],
  flowId: string,
  ref?: string,
  errorCode?: string,
): FiredOutcome {
  return {
    hook,
    relay: 'acme',
    key: KEY,
    flowId,
    ...(ref === undefined ? {} : { ref }),
    ...(errorCode === undefined ? {} : { error: { code: errorCode, message: 'failed' } }),
  };
}

let receiver: CallbackReceiver;

beforeAll(async () => {
  const requests = await collectCallbacks([
    outcome('connect:confirmed', '1', 'wechat'),
    outcome('connect:confirmed', '2', 'wechat'),
    outcome('connect:cancelled', '3', 'wechat'),
    outcome('connect:failed', '4', 'wechat', 'STORE_WRITE_FAILED'),
    outcome('connect:confirmed', '5', 'forum'),
    outcome('connect:failed', '6', 'forum', 'RELAY_NOT_FOUND'),
    outcome('connect:failed', '7', undefined, 'STORE_WRITE_FAILED'),
    outcome('connect:cancelled', '8'),
  ]);
  receiver = new CallbackReceiver({ secret: TEST_SECRET });

  for (const request of requests) {
    expect(receiver.receive(asCallbackRequest(request)).kind).toBe('accepted');
  }

  // A retry or replay of an event counts nothing.
  expect(receiver.receive(asCallbackRequest(requests[0]!)).kind).toBe('duplicate');
});

describe('CallbackTally', () => {
  it('counts outcomes and rates overall', () => {
    const summary = receiver.tally.summary();

    expect(summary).toMatchObject({ total: 8, success: 3, cancelled: 2, error: 3 });
    expect(summary.successRate).toBe(3 / 8);
    expect(summary.cancelRate).toBe(2 / 8);
  });

  it('gives each error code its share of errors', () => {
    expect(receiver.tally.summary().errorCodes).toEqual([
      { code: 'STORE_WRITE_FAILED', count: 2, share: 2 / 3 },
      { code: 'RELAY_NOT_FOUND', count: 1, share: 1 / 3 },
    ]);
  });

  it('groups by relay and ref', () => {
    const [relay] = receiver.tally.summary().relays;

    expect(relay?.relayId).toBe('acme');
    expect(relay?.total).toBe(8);
    expect(relay?.refs.map((ref) => [ref.ref, ref.total])).toEqual([
      ['wechat', 4],
      ['forum', 2],
      [null, 2],
    ]);
  });

  it('computes rates per ref', () => {
    const refs = receiver.tally.summary().relays[0]?.refs ?? [];
    const wechat = refs.find((ref) => ref.ref === 'wechat');
    const none = refs.find((ref) => ref.ref === null);

    expect(wechat).toMatchObject({ success: 2, cancelled: 1, error: 1 });
    expect(wechat?.successRate).toBe(0.5);
    expect(wechat?.cancelRate).toBe(0.25);
    expect(wechat?.errorCodes).toEqual([{ code: 'STORE_WRITE_FAILED', count: 1, share: 1 }]);
    expect(none).toMatchObject({ success: 0, cancelled: 1, error: 1, successRate: 0 });
  });

  it('reports zero rates when empty', () => {
    expect(new CallbackTally().summary()).toEqual({
      total: 0,
      success: 0,
      cancelled: 0,
      error: 0,
      successRate: 0,
      cancelRate: 0,
      errorCodes: [],
      relays: [],
      testEvents: 0,
    });
  });

  it('counts test events from the panel apart', () => {
    const tally = new CallbackTally();
    const test = {
      event: 'connect' as const,
      status: 'success' as const,
      relay_id: 'acme',
      ref: 'lime-test-event',
      ref_code: 'lime-test-event',
      timestamp: '2026-02-16T10:00:00Z',
      event_id: '019c65e4-8100-7105-9b09-9843c79bc332',
      key_prefix: 'limetes',
      client: { version: '1.6.0', platform: 'macos' as const, plugin_version: '0.1.0' },
    };
    tally.record(test);

    expect(tally.summary()).toMatchObject({ total: 0, success: 0, testEvents: 1, relays: [] });
  });
});
