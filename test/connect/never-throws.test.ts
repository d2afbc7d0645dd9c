import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCallback, type OutcomeKind } from '../../src/connect/build-callback.js';
import { parseConnectLink } from '../../src/connect/connect-link.js';
import { CallbackPayloadSchema } from '../../src/connect/payload-schema.js';

const context = {
  appVersion: '0.9.3',
  platform: 'linux',
  now: () => Date.parse('2026-02-16T10:00:00Z'),
};

/** Any string, including lone surrogates and control characters. */
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

const kinds = fc.constantFrom<OutcomeKind>('confirmed', 'cancelled', 'failed');

/** A key that passes validation: 8 to 64 code points without whitespace or controls. */
const validKey = fc
  .string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 64 })
  .filter((key) => !/[\s\u0000-\u001F]/u.test(key));

const fieldValue = fc.oneof(anyText, fc.anything(), fc.constant(undefined), fc.constant(''));

/** Outcomes close enough to valid that most checks are reached. */
const outcomes = fc.record(
  {
    relay: fc.oneof(
      { arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,66}$/), weight: 4 },
      { arbitrary: fieldValue, weight: 1 },
    ),
    key: fc.oneof({ arbitrary: validKey, weight: 4 }, { arbitrary: fieldValue, weight: 1 }),
    name: fieldValue,
    ref: fc.oneof(fc.string({ maxLength: 140 }), fieldValue),
    flowId: fieldValue,
    occurredAt: fc.oneof(
      fc.date(),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fieldValue,
    ),
    error: fc.oneof(
      fc.record({
        code: fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,66}$/), fieldValue),
        message: fc.oneof(fc.string({ maxLength: 520 }), fieldValue),
      }),
      fieldValue,
    ),
  },
  { requiredKeys: [] },
);

function expectNamedFailureOrValidPayload(result: ReturnType<typeof buildCallback>): void {
  if (result.ok) {
    expect(CallbackPayloadSchema.safeParse(JSON.parse(result.callback.body)).success).toBe(true);
    return;
  }

  expect(result.field.length).toBeGreaterThan(0);
  expect(result.message.startsWith(`${result.field}: `)).toBe(true);
}

describe('buildCallback on arbitrary input', () => {
  it('never throws on any value', () => {
    fc.assert(
      fc.property(
        kinds,
        fc.anything({ withNullPrototype: true, withBoxedValues: true }),
        (kind, outcome) => {
          expectNamedFailureOrValidPayload(buildCallback(kind, outcome, context));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on near-valid outcomes', () => {
    fc.assert(
      fc.property(kinds, outcomes, (kind, outcome) => {
        expectNamedFailureOrValidPayload(buildCallback(kind, outcome, context));
      }),
      { numRuns: 2000 },
    );
  });

  it('never exposes the whole key', () => {
    fc.assert(
      fc.property(kinds, outcomes, validKey, (kind, outcome, key) => {
        const withKey = { ...outcome, key, error: { code: 'E', message: `failed for ${key}` } };
        const result = buildCallback(kind, withKey, context);
        const visible = result.ok ? result.callback.body : result.message;

        expect(visible.includes(key)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseConnectLink on arbitrary input', () => {
  const codes = ['INVALID_URL', 'MISSING_RELAY', 'MISSING_KEY'];

  function expectResult(result: ReturnType<typeof parseConnectLink>): void {
    if (result.ok) {
      expect(result.link.relay.length).toBeGreaterThan(0);
      expect(result.link.key.length).toBeGreaterThan(0);
      return;
    }

    expect(codes).toContain(result.error.code);
    expect(result.error.message.length).toBeGreaterThan(0);
  }

  it('never throws on any value', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true }), (input) => {
        expectResult(parseConnectLink(input));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on link-shaped text', () => {
    const parameter = fc.tuple(
      fc.constantFrom('relay', 'key', 'name', 'ref', 'other', '%72ef', '%'),
      fc.oneof(anyText, fc.constantFrom('%', '%E0%A4%A', '%FF', '%2541', '+', '%ED%A0%80')),
    );
    const links = fc
      .tuple(
        fc.constantFrom('lime://connect', 'LIME://Connect/', 'lime://other', 'lime:', ''),
        fc.array(parameter),
      )
      .map(
        ([base, pairs]) => `${base}?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`,
      );

    fc.assert(
      fc.property(links, (link) => {
        const result = parseConnectLink(link);
        expectResult(result);

        if (
          !result.ok &&
          result.error.code === 'INVALID_URL' &&
          result.error.message.includes('percent')
        ) {
          expect(result.error.message).toMatch(/the (relay|key|name|ref) parameter/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('returns encoded values unchanged after one decode', () => {
    const value = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });

    fc.assert(
      fc.property(value, value, value, value, (relay, key, name, ref) => {
        const text = [
          `relay=${encodeURIComponent(relay)}`,
          `key=${encodeURIComponent(key)}`,
          `name=${encodeURIComponent(name)}`,
          `ref=${encodeURIComponent(ref)}`,
        ].join('&');
        const result = parseConnectLink(`lime://connect?${text}`);

        expect(result).toStrictEqual({ ok: true, link: { relay, key, name, ref } });
      }),
      { numRuns: 500 },
    );
  });
});
