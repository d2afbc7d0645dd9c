import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { CallbackReceiver } from '../../src/relay/callback-receiver.js';
import { WebhookIdDeduper } from '../../src/relay/webhook-id-deduper.js';
import type { ReceivedRequest } from '../helpers/https-relay.js';
import { asCallbackRequest, collectCallbacks, TEST_SECRET } from './plugin-callbacks.js';

const KEY = 'sk-kit-0123456789abcdefghijkl';

let signed: ReceivedRequest[];

beforeAll(async () => {
  signed = await collectCallbacks([
    { hook: 'connect:confirmed', relay: 'acme', key: KEY, ref: 'spring', flowId: 'a' },
    { hook: 'connect:cancelled', relay: 'acme', key: KEY, ref: 'spring', flowId: 'b' },
    {
      hook: 'connect:failed',
      relay: 'acme',
      key: KEY,
      flowId: 'c',
      error: { code: 'STORE_WRITE_FAILED', message: 'disk full' },
    },
  ]);
});

/** Returns a copy of a received request with some headers replaced. */
function withHeaders(request: ReceivedRequest, headers: Record<string, string>) {
  return { body: request.body, headers: { ...request.headers, ...headers } };
}

describe('CallbackReceiver', () => {
  it('accepts signed callbacks from the plugin', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const results = signed.map((request) => receiver.receive(asCallbackRequest(request)));

    expect(results.map((result) => result.kind)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
  });

  it('returns the validated payload', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const result = receiver.receive(asCallbackRequest(signed[0]!));

    expect(result).toMatchObject({
      kind: 'accepted',
      eventId: signed[0]!.headers['webhook-id'],
      payload: {
        event: 'connect',
        status: 'success',
        relay_id: 'acme',
        ref: 'spring',
        key_prefix: 'sk-kit-',
        client: { version: '1.6.0', platform: 'windows' },
      },
    });
  });

  it('reports a repeated webhook-id as duplicate', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    receiver.receive(asCallbackRequest(signed[0]!));
    const again = receiver.receive(asCallbackRequest(signed[0]!));

    expect(again.kind).toBe('duplicate');
    expect(again.status).toBe(200);
    expect(receiver.tally.summary().total).toBe(1);
  });

  it('rejects a wrong secret with 401', () => {
    const receiver = new CallbackReceiver({
      secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    });
    const result = receiver.receive(asCallbackRequest(signed[0]!));

    expect(result).toMatchObject({ kind: 'rejected', status: 401, reason: 'signature' });
    expect(receiver.tally.summary().total).toBe(0);
  });

  it('rejects a changed body with 401', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const body = signed[1]!.body.toString('utf8').replace('"cancelled"', '"success"');
    const result = receiver.receive({ body, headers: signed[1]!.headers });

    expect(result).toMatchObject({ kind: 'rejected', status: 401, reason: 'signature' });
  });

  it('rejects an unsigned request when a secret is set', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const { 'webhook-signature': _removed, ...headers } = signed[0]!.headers;
    const result = receiver.receive({ body: signed[0]!.body, headers });

    expect(result).toMatchObject({ kind: 'rejected', status: 401, reason: 'signature' });
  });

  it('rejects a timestamp older than five minutes', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const request = signed[0]!;
    const id = String(request.headers['webhook-id']);
    const old = new Date(Date.now() - 6 * 60_000);
    const signature = new Webhook(TEST_SECRET).sign(id, old, request.body.toString('utf8'));
    const result = receiver.receive(
      withHeaders(request, {
        'webhook-timestamp': String(Math.floor(old.getTime() / 1000)),
        'webhook-signature': signature,
      }),
    );

    expect(result).toMatchObject({ kind: 'rejected', status: 401, reason: 'signature' });
  });

  it('rejects a missing webhook-id with 400', () => {
    const receiver = new CallbackReceiver();
    const { 'webhook-id': _removed, ...headers } = signed[0]!.headers;

    expect(receiver.receive({ body: signed[0]!.body, headers })).toMatchObject({
      kind: 'rejected',
      status: 400,
      reason: 'missing_webhook_id',
    });
  });

  it('rejects a body outside the schema with 400', () => {
    const receiver = new CallbackReceiver();
    const payload = JSON.parse(signed[0]!.body.toString('utf8')) as Record<string, unknown>;
    const result = receiver.receive({
      body: JSON.stringify({ ...payload, key: KEY }),
      headers: signed[0]!.headers,
    });

    expect(result).toMatchObject({
      kind: 'rejected',
      status: 400,
      reason: 'invalid_payload',
      message: expect.stringMatching(/key/),
    });
  });

  it('rejects an event_id that differs from webhook-id', () => {
    const receiver = new CallbackReceiver();
    const result = receiver.receive(
      withHeaders(signed[0]!, { 'webhook-id': String(signed[1]!.headers['webhook-id']) }),
    );

    expect(result).toMatchObject({
      kind: 'rejected',
      status: 400,
      reason: 'invalid_payload',
      message: 'event_id: expected the same value as webhook-id',
    });
  });

  it('check changes nothing until record', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const first = receiver.check(asCallbackRequest(signed[0]!));
    const second = receiver.check(asCallbackRequest(signed[0]!));

    expect(first).toMatchObject({ kind: 'callback', duplicate: false });
    expect(second).toMatchObject({ kind: 'callback', duplicate: false });
    expect(receiver.tally.summary().total).toBe(0);

    if (first.kind !== 'callback' || second.kind !== 'callback') {
      throw new Error('both requests were checked as callbacks above');
    }

    expect(receiver.record(first)).toBe(true);
    expect(receiver.record(second)).toBe(false);
    expect(receiver.check(asCallbackRequest(signed[0]!))).toMatchObject({ duplicate: true });
    expect(receiver.tally.summary().total).toBe(1);
  });

  it('reads a fetch Headers object', () => {
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const request = signed[2]!;
    const headers = new Headers();

    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      headers.set(name, String(request.headers[name]));
    }

    expect(receiver.receive({ body: new Uint8Array(request.body), headers }).kind).toBe('accepted');
  });

  it('rejects a malformed secret at construction', () => {
    expect(() => new CallbackReceiver({ secret: 'whsec_!!!' })).toThrow();
  });
});

describe('CallbackReceiver with retries', () => {
  it('counts a retried callback once', async () => {
    let answered = 0;
    const attempts = await collectCallbacks(
      [{ hook: 'connect:confirmed', relay: 'acme', key: KEY, flowId: 'retry' }],
      {
        expectedRequests: 2,
        handler: (_request, response) => {
          answered += 1;
          response.writeHead(answered === 1 ? 503 : 200);
          response.end();
        },
      },
    );
    const receiver = new CallbackReceiver({ secret: TEST_SECRET });
    const results = attempts.map((attempt) => receiver.receive(asCallbackRequest(attempt)));

    expect(attempts[0]!.headers['webhook-id']).toBe(attempts[1]!.headers['webhook-id']);
    expect(results.map((result) => result.kind)).toEqual(['accepted', 'duplicate']);
    expect(receiver.tally.summary()).toMatchObject({ total: 1, success: 1 });
  });

  it('accepts unsigned callbacks without a secret', async () => {
    const [request] = await collectCallbacks(
      [{ hook: 'connect:cancelled', relay: 'acme', key: KEY, flowId: 'unsigned' }],
      { secret: '' },
    );
    const receiver = new CallbackReceiver();

    expect(request!.headers['webhook-signature']).toBeUndefined();
    expect(receiver.receive(asCallbackRequest(request!)).kind).toBe('accepted');
  });
});

describe('WebhookIdDeduper', () => {
  it('forgets the oldest id past maxIds', () => {
    const deduper = new WebhookIdDeduper({ maxIds: 2 });

    expect(deduper.remember('a')).toBe(true);
    expect(deduper.remember('b')).toBe(true);
    expect(deduper.remember('a')).toBe(false);
    expect(deduper.remember('c')).toBe(true);
    expect(deduper.has('a')).toBe(false);
    expect(deduper.has('b')).toBe(true);
    expect(deduper.size).toBe(2);
  });

  it('rejects a maxIds below 1', () => {
    expect(() => new WebhookIdDeduper({ maxIds: 0 })).toThrow(
      'maxIds: expected a positive integer, received 0',
    );
  });
});
