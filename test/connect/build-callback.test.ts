import { describe, expect, it } from 'vitest';
import {
  buildCallback,
  type BuildContext,
  type OutcomeKind,
} from '../../src/connect/build-callback.js';
import { UUID_V7_PATTERN } from '../../src/connect/event-id.js';
import { CallbackPayloadSchema } from '../../src/connect/payload-schema.js';
import { PLUGIN_VERSION } from '../../src/version.js';

const KEY = 'sk-live-0123456789abcdefABCDEF';
const EVENT_ID = '019c65f0-8a40-7000-8000-000000000001';
const NOW = Date.parse('2026-02-16T10:00:00.789Z');

const context: BuildContext = {
  appVersion: '0.9.3',
  platform: 'darwin',
  now: () => NOW,
  newEventId: () => EVENT_ID,
};

function build(kind: OutcomeKind, outcome: unknown, overrides: Partial<BuildContext> = {}) {
  return buildCallback(kind, outcome, { ...context, ...overrides });
}

function built(kind: OutcomeKind, outcome: unknown, overrides: Partial<BuildContext> = {}) {
  const result = build(kind, outcome, overrides);

  if (!result.ok) {
    throw new Error(`expected a callback, received failure ${result.message}`);
  }

  return result.callback;
}

function failure(kind: OutcomeKind, outcome: unknown) {
  const result = build(kind, outcome);

  if (result.ok) {
    throw new Error('expected a failure, received a callback');
  }

  return result;
}

const failedError = { code: 'relay_not_found', message: 'relay acme is not in the registry' };

describe('buildCallback payloads', () => {
  it('builds a success payload field by field', () => {
    const callback = built('confirmed', {
      relay: 'acme',
      key: KEY,
      ref: 'spring-sale',
      flowId: 'flow-1',
    });

    expect(callback.payload).toStrictEqual({
      event: 'connect',
      status: 'success',
      relay_id: 'acme',
      ref: 'spring-sale',
      ref_code: 'spring-sale',
      timestamp: '2026-02-16T10:00:00Z',
      event_id: EVENT_ID,
      key_prefix: 'sk-live',
      client: { version: '0.9.3', platform: 'macos', plugin_version: PLUGIN_VERSION },
    });
    expect(callback.eventId).toBe(EVENT_ID);
    expect(callback.relayId).toBe('acme');
    expect(callback.ref).toBe('spring-sale');
    expect(callback.flowId).toBe('flow-1');
    expect(callback.occurredAt).toBe(NOW);
  });

  it('builds a cancelled payload without ref', () => {
    const callback = built('cancelled', { relay: 'acme', key: KEY });

    expect(callback.payload).toStrictEqual({
      event: 'connect',
      status: 'cancelled',
      relay_id: 'acme',
      timestamp: '2026-02-16T10:00:00Z',
      event_id: EVENT_ID,
      key_prefix: 'sk-live',
      client: { version: '0.9.3', platform: 'macos', plugin_version: PLUGIN_VERSION },
    });
    expect(Object.keys(callback.payload)).not.toContain('ref');
    expect(Object.keys(callback.payload)).not.toContain('ref_code');
    expect(callback.body).not.toContain('"ref');
    expect('ref' in callback).toBe(false);
    expect('flowId' in callback).toBe(false);
  });

  it('builds a cancelled payload with ref', () => {
    const callback = built('cancelled', { relay: 'acme', key: KEY, ref: 'tg-channel' });

    expect(callback.payload.status).toBe('cancelled');
    expect(callback.payload.ref).toBe('tg-channel');
    expect(callback.payload.ref_code).toBe('tg-channel');
    expect(callback.payload.error_code).toBeUndefined();
  });

  it('builds an error payload with an upper-cased code', () => {
    const callback = built('failed', {
      relay: 'acme',
      key: KEY,
      ref: 'spring-sale',
      error: failedError,
    });

    expect(callback.payload).toStrictEqual({
      event: 'connect',
      status: 'error',
      relay_id: 'acme',
      ref: 'spring-sale',
      ref_code: 'spring-sale',
      timestamp: '2026-02-16T10:00:00Z',
      event_id: EVENT_ID,
      key_prefix: 'sk-live',
      client: { version: '0.9.3', platform: 'macos', plugin_version: PLUGIN_VERSION },
      error_code: 'RELAY_NOT_FOUND',
      error_message: 'relay acme is not in the registry',
    });
  });

  it('builds an error payload without ref', () => {
    const callback = built('failed', { relay: 'acme', key: KEY, error: failedError });

    expect(callback.payload.ref).toBeUndefined();
    expect(callback.payload.ref_code).toBeUndefined();
    expect(callback.payload.error_code).toBe('RELAY_NOT_FOUND');
  });

  it('serialises fields in wire contract order', () => {
    const callback = built('failed', { relay: 'acme', key: KEY, ref: 'r', error: failedError });

    expect(Object.keys(JSON.parse(callback.body) as object)).toEqual([
      'event',
      'status',
      'relay_id',
      'ref',
      'ref_code',
      'timestamp',
      'event_id',
      'key_prefix',
      'client',
      'error_code',
      'error_message',
    ]);
  });

  it('maps the host platform', () => {
    expect(
      built('confirmed', { relay: 'acme', key: KEY }, { platform: 'win32' }).payload.client
        .platform,
    ).toBe('windows');
    expect(
      built('confirmed', { relay: 'acme', key: KEY }, { platform: 'linux' }).payload.client
        .platform,
    ).toBe('linux');
  });

  it('ignores error on a confirmed outcome', () => {
    const callback = built('confirmed', { relay: 'acme', key: KEY, error: { code: 42 } });

    expect(callback.payload.error_code).toBeUndefined();
    expect(callback.payload.error_message).toBeUndefined();
  });

  it('treats null and empty optional fields as absent', () => {
    const callback = built('confirmed', {
      relay: 'acme',
      key: KEY,
      name: null,
      ref: '',
      flowId: null,
      occurredAt: null,
    });

    expect(callback.payload.ref).toBeUndefined();
    expect(callback.flowId).toBeUndefined();
    expect(callback.occurredAt).toBe(NOW);
  });

  it('ignores unknown outcome fields', () => {
    const callback = built('confirmed', { relay: 'acme', key: KEY, future: { nested: true } });

    expect(callback.body).not.toContain('future');
  });
});

describe('buildCallback body', () => {
  it('is the JSON of payload', () => {
    const callback = built('failed', { relay: 'acme', key: KEY, ref: 'r', error: failedError });

    expect(callback.body).toBe(JSON.stringify(callback.payload));
  });

  it('round-trips through CallbackPayloadSchema', () => {
    for (const kind of ['confirmed', 'cancelled', 'failed'] as const) {
      const callback = built(kind, { relay: 'acme', key: KEY, ref: 'r', error: failedError });
      const reparsed = CallbackPayloadSchema.parse(JSON.parse(callback.body));

      expect(reparsed).toStrictEqual(callback.payload);
      expect(JSON.stringify(reparsed)).toBe(callback.body);
    }
  });

  it('keeps a ref with emoji and U+2028 exactly', () => {
    const ref = 'launch 🚀\u2028line';
    const callback = built('confirmed', { relay: 'acme', key: KEY, ref, name: 'My key 🔑\u2028' });

    expect(callback.payload.ref).toBe(ref);
    expect((JSON.parse(callback.body) as { ref: string }).ref).toBe(ref);
    expect(callback.body).toContain('\u2028');
  });
});

describe('buildCallback timestamp', () => {
  it('drops milliseconds from a Date', () => {
    const callback = built('confirmed', {
      relay: 'acme',
      key: KEY,
      occurredAt: new Date('2026-02-16T10:00:05.999Z'),
    });

    expect(callback.payload.timestamp).toBe('2026-02-16T10:00:05Z');
    expect(callback.occurredAt).toBe(Date.parse('2026-02-16T10:00:05.999Z'));
  });

  it('converts an offset date-time to UTC', () => {
    const callback = built('confirmed', {
      relay: 'acme',
      key: KEY,
      occurredAt: '2026-02-16T18:30:00.250+08:00',
    });

    expect(callback.payload.timestamp).toBe('2026-02-16T10:30:00Z');
    expect(callback.occurredAt).toBe(Date.parse('2026-02-16T10:30:00.250Z'));
  });

  it('uses context.now without occurredAt', () => {
    const callback = built(
      'confirmed',
      { relay: 'acme', key: KEY },
      { now: () => Date.parse('2030-01-01T00:00:00Z') },
    );

    expect(callback.payload.timestamp).toBe('2030-01-01T00:00:00Z');
  });

  it.each([
    ['text', 'yesterday'],
    ['a date without time zone', '2026-02-16T10:00:00'],
    ['February 30', '2026-02-30T10:00:00Z'],
    ['hour 24', '2026-02-16T24:00:00Z'],
    ['a leap second', '2026-06-30T23:59:60Z'],
    ['an invalid Date', new Date(Number.NaN)],
    ['a number', 1771236000000],
    ['a year past 9999', new Date(8.64e15)],
    ['a fake Date', { [Symbol.toStringTag]: 'Date' }],
  ])('rejects %s as occurredAt', (_label, occurredAt) => {
    const result = failure('confirmed', { relay: 'acme', key: KEY, occurredAt });

    expect(result.field).toBe('occurredAt');
    expect(result.message.startsWith('occurredAt: ')).toBe(true);
  });

  it('accepts February 29 of a leap year', () => {
    const callback = built('confirmed', {
      relay: 'acme',
      key: KEY,
      occurredAt: '2028-02-29T00:00:00Z',
    });

    expect(callback.payload.timestamp).toBe('2028-02-29T00:00:00Z');
  });

  it('rejects a clock that returns NaN', () => {
    const result = build('confirmed', { relay: 'acme', key: KEY }, { now: () => Number.NaN });

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.field).toBe('context.now');
  });
});

describe('buildCallback key handling', () => {
  it('keeps exactly the first 7 characters of the key', () => {
    const callback = built('confirmed', { relay: 'acme', key: KEY });

    expect(callback.payload.key_prefix).toBe('sk-live');
    expect(Array.from(callback.payload.key_prefix)).toHaveLength(7);
  });

  it('counts an emoji in the key as one character', () => {
    const key = '🔑🔑🔑abcdefgh';
    const callback = built('confirmed', { relay: 'acme', key });

    expect(callback.payload.key_prefix).toBe('🔑🔑🔑abcd');
  });

  it('never puts the whole key in the body', () => {
    const callback = built('failed', {
      relay: 'acme',
      key: KEY,
      name: 'key label',
      error: { code: 'SAVE_FAILED', message: `could not save ${KEY} to the store` },
    });

    expect(callback.body).not.toContain(KEY);
    expect(callback.body).not.toContain(KEY.slice(0, 8));
  });

  it('redacts the key in error.message', () => {
    const callback = built('failed', {
      relay: 'acme',
      key: KEY,
      error: { code: 'SAVE_FAILED', message: `saving ${KEY} failed; ${KEY} was rejected` },
    });

    expect(callback.payload.error_message).toBe('saving sk-live… failed; sk-live… was rejected');
  });

  it('redacts the key before checking the message length', () => {
    const key = `sk-${'x'.repeat(200)}`;
    const callback = built('failed', {
      relay: 'acme',
      key,
      error: { code: 'SAVE_FAILED', message: `${key} ${key} ${key}` },
    });

    expect(callback.payload.error_message).toBe('sk-xxxx… sk-xxxx… sk-xxxx…');
  });

  it('redacts a key that contains quotes and backslashes', () => {
    const key = 'ab"c\\def"gh';
    const callback = built('failed', {
      relay: 'acme',
      key,
      error: { code: 'E', message: `bad ${key}` },
    });

    expect(callback.body).not.toContain(key);
    expect(callback.body).not.toContain(JSON.stringify(key).slice(1, -1));
  });

  it('redacts a percent-encoded or JSON-escaped key in error.message', () => {
    const key = 'sk-a+b/c?d[e]$f"g\\h';
    const callback = built('failed', {
      relay: 'acme',
      key,
      error: {
        code: 'E',
        message: `url ?key=${encodeURIComponent(key)} body ${JSON.stringify(key).slice(1, -1)}`,
      },
    });

    expect(callback.payload.error_message).toBe('url ?key=sk-a+b/… body sk-a+b/…');
  });

  it('rejects a ref that contains the key', () => {
    const result = failure('confirmed', { relay: 'acme', key: KEY, ref: `x${KEY}` });

    expect(result.field).toBe('ref');
  });

  it('keeps the key out of every failure message', () => {
    const outcomes: unknown[] = [
      { relay: 'bad relay', key: KEY },
      { relay: 'acme', key: `${KEY} ` },
      { relay: 'acme', key: `${KEY}\u0001` },
      { relay: 'acme', key: `${KEY}\uD800` },
      { relay: 'acme', key: KEY.repeat(200) },
      { relay: 'acme', key: KEY, ref: KEY },
      { relay: 'acme', key: KEY, flowId: KEY },
      { relay: 'acme', key: KEY, occurredAt: KEY },
      { relay: 'acme', key: KEY, error: { code: KEY, message: KEY } },
      { relay: 'acme', key: KEY, error: { code: 'E', message: `${KEY}\u0000` } },
      { relay: KEY, key: KEY, error: failedError },
    ];

    for (const outcome of outcomes) {
      const result = build('failed', outcome);

      expect(result.ok).toBe(false);
      expect(result.ok ? '' : result.message).not.toContain(KEY);
      expect(result.ok ? '' : result.message).not.toContain(KEY.slice(0, 8));
    }
  });
});

describe('buildCallback rejects invalid outcomes', () => {
  const oneMegabyte = 'r'.repeat(1_048_576);

  it.each<[string, OutcomeKind, unknown, string, string]>([
    [
      'missing relay',
      'confirmed',
      { key: KEY },
      'relay',
      'relay: expected a string, received undefined',
    ],
    [
      'empty relay',
      'confirmed',
      { relay: '', key: KEY },
      'relay',
      'relay: expected a non-empty string',
    ],
    [
      'missing key',
      'confirmed',
      { relay: 'acme' },
      'key',
      'key: expected a string, received undefined',
    ],
    [
      'number relay',
      'confirmed',
      { relay: 42, key: KEY },
      'relay',
      'relay: expected a string, received number',
    ],
    ['null outcome', 'confirmed', null, 'outcome', 'outcome: expected an object, received null'],
    [
      'array outcome',
      'confirmed',
      [KEY],
      'outcome',
      'outcome: expected an object, received an array',
    ],
    [
      'string outcome',
      'confirmed',
      'acme',
      'outcome',
      'outcome: expected an object, received string',
    ],
    [
      '1 MB ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: oneMegabyte },
      'ref',
      'ref: expected at most 128 characters, received 1048576',
    ],
    [
      '129-character ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: 'r'.repeat(129) },
      'ref',
      'ref: expected at most 128 characters, received 129',
    ],
    [
      'lone surrogate in name',
      'confirmed',
      { relay: 'acme', key: KEY, name: 'a\uD83Db' },
      'name',
      'name: expected well-formed Unicode text, received a lone surrogate at index 1',
    ],
    [
      'control character in ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: 'a\u0007b' },
      'ref',
      'ref: expected no control characters, received U+0007 at index 1',
    ],
    [
      'delete character in ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: 'a\u007Fb' },
      'ref',
      'ref: expected no control characters, received U+007F at index 1',
    ],
    [
      'C1 control character in name',
      'confirmed',
      { relay: 'acme', key: KEY, name: 'a\u0085b' },
      'name',
      'name: expected no control characters, received U+0085 at index 1',
    ],
    [
      'right-to-left override in ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: 'spring\u202Ealpmaxe' },
      'ref',
      'ref: expected no bidirectional control characters, received U+202E at index 6',
    ],
    [
      'newline in ref',
      'confirmed',
      { relay: 'acme', key: KEY, ref: 'a\nb' },
      'ref',
      'ref: expected no control characters, received U+000A',
    ],
    [
      '257-character name',
      'confirmed',
      { relay: 'acme', key: KEY, name: 'n'.repeat(257) },
      'name',
      'name: expected at most 256 characters, received 257',
    ],
    [
      '129-character flowId',
      'confirmed',
      { relay: 'acme', key: KEY, flowId: 'f'.repeat(129) },
      'flowId',
      'flowId: expected at most 128 characters',
    ],
    [
      'number flowId',
      'confirmed',
      { relay: 'acme', key: KEY, flowId: 7 },
      'flowId',
      'flowId: expected a string, received number',
    ],
    [
      'relay with a space',
      'confirmed',
      { relay: 'acme relay', key: KEY },
      'relay',
      'relay: expected a relay id',
    ],
    [
      '65-character relay',
      'confirmed',
      { relay: 'r'.repeat(65), key: KEY },
      'relay',
      'relay: expected at most 64 characters, received 65',
    ],
    [
      '7-character key',
      'confirmed',
      { relay: 'acme', key: 'sk-1234' },
      'key',
      'key: expected at least 8 characters, received 7',
    ],
    [
      '4097-character key',
      'confirmed',
      { relay: 'acme', key: 'k'.repeat(4097) },
      'key',
      'key: expected at most 4096 characters, received 4097',
    ],
    [
      'key with whitespace',
      'confirmed',
      { relay: 'acme', key: 'sk-live 0123456' },
      'key',
      'key: expected no whitespace',
    ],
    [
      'key with U+3000',
      'confirmed',
      { relay: 'acme', key: 'sk-live\u30000123456' },
      'key',
      'key: expected no whitespace',
    ],
    [
      'failed without error',
      'failed',
      { relay: 'acme', key: KEY },
      'error',
      'error: expected { code, message } with a failed outcome, received undefined',
    ],
    [
      'failed with string error',
      'failed',
      { relay: 'acme', key: KEY, error: 'boom' },
      'error',
      'error: expected { code, message } with a failed outcome, received string',
    ],
    [
      'error code with a dash',
      'failed',
      { relay: 'acme', key: KEY, error: { code: 'BAD-CODE', message: 'm' } },
      'error.code',
      'error.code: expected letters, digits and "_"',
    ],
    [
      'error code starting with a digit',
      'failed',
      { relay: 'acme', key: KEY, error: { code: '9LIVES', message: 'm' } },
      'error.code',
      'error.code: expected letters',
    ],
    [
      '65-character error code',
      'failed',
      { relay: 'acme', key: KEY, error: { code: 'E'.repeat(65), message: 'm' } },
      'error.code',
      'error.code: expected at most 64 characters, received 65',
    ],
    [
      'missing error message',
      'failed',
      { relay: 'acme', key: KEY, error: { code: 'E' } },
      'error.message',
      'error.message: expected a string, received undefined',
    ],
    [
      '501-character error message',
      'failed',
      { relay: 'acme', key: KEY, error: { code: 'E', message: 'm'.repeat(501) } },
      'error.message',
      'error.message: expected at most 500 characters, received 501',
    ],
    [
      'NUL in error message',
      'failed',
      { relay: 'acme', key: KEY, error: { code: 'E', message: 'a\u0000' } },
      'error.message',
      'error.message: expected no control characters, received U+0000',
    ],
  ])('rejects %s', (_label, kind, outcome, field, message) => {
    const result = failure(kind, outcome);

    expect(result.field).toBe(field);
    expect(result.message).toContain(message);
  });

  it('allows line breaks and tabs in error.message', () => {
    const message = 'line one\r\nline two\tend';
    const callback = built('failed', { relay: 'acme', key: KEY, error: { code: 'E', message } });

    expect(callback.payload.error_message).toBe(message);
  });

  it('rejects an inherited relay', () => {
    const outcome = Object.create({ relay: 'acme' }) as Record<string, unknown>;
    outcome.key = KEY;

    expect(failure('confirmed', outcome).field).toBe('relay');
  });

  it('does not read a __proto__ key as the prototype', () => {
    const outcome = JSON.parse(`{"__proto__": {"relay": "acme"}, "key": "${KEY}"}`) as unknown;

    expect(failure('confirmed', outcome).field).toBe('relay');
  });

  it('ignores a polluted prototype', () => {
    const outcome = JSON.parse(
      `{"relay": "acme", "key": "${KEY}", "__proto__": {"ref": "injected"}}`,
    ) as unknown;
    const callback = built('confirmed', outcome);

    expect(callback.payload.ref).toBeUndefined();
  });

  it('reports a throwing getter on the outcome', () => {
    const outcome = {
      relay: 'acme',
      get key(): string {
        throw new Error(`cannot read ${KEY}`);
      },
    };
    const result = failure('confirmed', outcome);

    expect(result.field).toBe('outcome');
    expect(result.message).not.toContain(KEY);
  });

  it('rejects an unknown kind', () => {
    const result = build('saved' as OutcomeKind, { relay: 'acme', key: KEY });

    expect(result.ok ? '' : result.field).toBe('kind');
  });

  it('rejects an app version with a control character', () => {
    const result = build('confirmed', { relay: 'acme', key: KEY }, { appVersion: '0.9\n' });

    expect(result.ok ? '' : result.field).toBe('context.appVersion');
  });

  it('rejects an event id that is not UUID version 7', () => {
    const result = build(
      'confirmed',
      { relay: 'acme', key: KEY },
      { newEventId: () => 'not-a-uuid' },
    );

    expect(result.ok ? '' : result.field).toBe('event_id');
  });
});

describe('buildCallback event ids', () => {
  it('creates a new UUID version 7 per call', () => {
    const withoutFixedId = { appVersion: '0.9.3', platform: 'linux', now: () => NOW };
    const first = buildCallback('confirmed', { relay: 'acme', key: KEY }, withoutFixedId);
    const second = buildCallback('confirmed', { relay: 'acme', key: KEY }, withoutFixedId);

    expect(first.ok).toBe(true);
    expect(second.ok).toBe(true);

    if (first.ok && second.ok) {
      expect(first.callback.eventId).toMatch(UUID_V7_PATTERN);
      expect(second.callback.eventId).not.toBe(first.callback.eventId);
      expect(first.callback.payload.event_id).toBe(first.callback.eventId);
    }
  });
});
