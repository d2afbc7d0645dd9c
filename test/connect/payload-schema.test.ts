import { describe, expect, it } from 'vitest';
import {
  CallbackPayloadSchema,
  FIELD_LIMITS,
  KEY_PREFIX_LENGTH,
  toPlatform,
} from '../../src/connect/payload-schema.js';

const valid = {
  event: 'connect',
  status: 'success',
  relay_id: 'acme',
  ref: 'spring-sale',
  ref_code: 'spring-sale',
  timestamp: '2026-02-16T10:00:00Z',
  event_id: '019c65f0-8a40-7000-8000-000000000001',
  key_prefix: 'sk-live',
  client: { version: '0.9.3', platform: 'macos', plugin_version: '0.1.0' },
};

const validError = {
  ...valid,
  status: 'error',
  error_code: 'SAVE_FAILED',
  error_message: 'disk full',
};

function issuePaths(input: unknown): string[] {
  const result = CallbackPayloadSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('CallbackPayloadSchema', () => {
  it('accepts a success payload', () => {
    expect(CallbackPayloadSchema.safeParse(valid).success).toBe(true);
  });

  it('accepts an error payload', () => {
    expect(CallbackPayloadSchema.safeParse(validError).success).toBe(true);
  });

  it('accepts a payload without ref and ref_code', () => {
    const { ref: _ref, ref_code: _refCode, ...withoutRef } = valid;

    expect(CallbackPayloadSchema.safeParse(withoutRef).success).toBe(true);
  });

  it('rejects ref without ref_code', () => {
    const { ref_code: _refCode, ...withoutRefCode } = valid;

    expect(issuePaths(withoutRefCode)).toEqual(['ref_code']);
  });

  it('rejects ref_code that differs from ref', () => {
    expect(issuePaths({ ...valid, ref_code: 'other' })).toEqual(['ref_code']);
  });

  it('rejects error fields with status success', () => {
    expect(issuePaths({ ...valid, error_code: 'E', error_message: 'm' })).toEqual([
      'error_code',
      'error_message',
    ]);
  });

  it('rejects status error without error fields', () => {
    expect(issuePaths({ ...valid, status: 'error' })).toEqual(['error_code', 'error_message']);
  });

  it('rejects an unknown field', () => {
    expect(CallbackPayloadSchema.safeParse({ ...valid, key: 'sk-live-secret' }).success).toBe(
      false,
    );
  });

  it.each([
    ['fractional seconds', '2026-02-16T10:00:00.000Z'],
    ['an offset', '2026-02-16T10:00:00+00:00'],
    ['a lower-case z', '2026-02-16T10:00:00z'],
    ['February 30', '2026-02-30T10:00:00Z'],
    ['no seconds', '2026-02-16T10:00Z'],
  ])('rejects a timestamp with %s', (_label, timestamp) => {
    expect(issuePaths({ ...valid, timestamp })).toEqual(['timestamp']);
  });

  it.each([
    ['a UUID version 4', '3b241101-e2bb-4255-8caf-4136c566a962'],
    ['upper-case hex', '019C65F0-8A40-7000-8000-000000000001'],
    ['a wrong variant', '019c65f0-8a40-7000-c000-000000000001'],
    ['no dashes', '019c65f08a4070008000000000000001'],
  ])('rejects an event_id with %s', (_label, eventId) => {
    expect(issuePaths({ ...valid, event_id: eventId })).toEqual(['event_id']);
  });

  it.each([
    ['8 characters', 'sk-live-'],
    ['6 characters', 'sk-liv'],
    ['whitespace', 'sk liv-'],
  ])('rejects a key_prefix of %s', (_label, keyPrefix) => {
    expect(issuePaths({ ...valid, key_prefix: keyPrefix })).toEqual(['key_prefix']);
  });

  it('accepts a key_prefix of 7 emoji', () => {
    expect(CallbackPayloadSchema.safeParse({ ...valid, key_prefix: '🔑'.repeat(7) }).success).toBe(
      true,
    );
  });

  it.each([
    ['lower case', 'save_failed'],
    ['a leading digit', '1FAILED'],
    ['65 characters', 'E'.repeat(65)],
  ])('rejects an error_code in %s', (_label, errorCode) => {
    expect(issuePaths({ ...validError, error_code: errorCode })).toEqual(['error_code']);
  });

  it('rejects an error_message of 501 characters', () => {
    expect(issuePaths({ ...validError, error_message: 'm'.repeat(501) })).toEqual([
      'error_message',
    ]);
  });

  it('counts error_message length in code points', () => {
    expect(
      CallbackPayloadSchema.safeParse({ ...validError, error_message: '🔥'.repeat(500) }).success,
    ).toBe(true);
  });

  it('rejects an unknown platform', () => {
    expect(issuePaths({ ...valid, client: { ...valid.client, platform: 'darwin' } })).toEqual([
      'client.platform',
    ]);
  });

  it('rejects a ref of 129 characters', () => {
    const ref = 'r'.repeat(129);

    expect(issuePaths({ ...valid, ref, ref_code: ref })).toEqual(['ref', 'ref_code']);
  });
});

describe('toPlatform', () => {
  it.each([
    ['darwin', 'macos'],
    ['mac', 'macos'],
    ['macOS', 'macos'],
    ['win32', 'windows'],
    ['Windows', 'windows'],
    ['linux', 'linux'],
    ['freebsd', 'linux'],
    ['', 'linux'],
  ])('maps %s to %s', (hostPlatform, platform) => {
    expect(toPlatform(hostPlatform)).toBe(platform);
  });

  it('maps a non-string to linux', () => {
    expect(toPlatform(undefined as unknown as string)).toBe('linux');
  });
});

describe('FIELD_LIMITS', () => {
  it('holds the documented limits', () => {
    expect(FIELD_LIMITS).toStrictEqual({
      relay: 64,
      key: { min: 8, max: 4096 },
      name: 256,
      ref: 128,
      flowId: 128,
      errorCode: 64,
      errorMessage: 500,
    });
    expect(KEY_PREFIX_LENGTH).toBe(7);
  });
});
