import * as z from 'zod';
import { RELAY_ID_PATTERN } from '../settings/settings-schema.js';
import { PLUGIN_VERSION_PATTERN } from '../version.js';
import { UUID_V7_PATTERN } from './event-id.js';
import { formatTimestamp } from './occurred-at.js';
import { checkText, countCodePoints, type TextRules } from './text-checks.js';

/**
 * Limits on the fields of a Connect outcome, in Unicode code points. Values over a limit are
 * rejected, never truncated, because a cut `ref` would count toward the wrong campaign.
 */
export const FIELD_LIMITS = {
  /** 64, the most that RELAY_ID_PATTERN allows, so every relay id can have settings. */
  relay: 64,
  /**
   * At least 8 so that the 7-character `key_prefix` never is the whole key. At most 4096, room
   * for JWT-style keys while keeping a link that carries one under common URL limits.
   */
  key: { min: 8, max: 4096 },
  /** 256, a label shown in Lime's key list. */
  name: 256,
  /** 128, a campaign code that receivers count by. */
  ref: 128,
  /** 128, room for a UUID or any opaque id Lime uses for one dialog. */
  flowId: 128,
  /** 64, a stable upper-case code such as `RELAY_NOT_FOUND`. */
  errorCode: 64,
  /** 500, the wire contract's maximum for `error_message`. */
  errorMessage: 500,
} as const;

/** Length of `key_prefix`, in code points: the wire contract sends the first 7 and never more. */
export const KEY_PREFIX_LENGTH = 7;

/** `error_code` as sent: upper case, starting with a letter. */
export const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** `timestamp` as sent: RFC 3339 UTC with whole seconds and `Z`. */
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Lime's version as sent in `client.version` and the User-Agent header: printable ASCII, so it
 * is valid in an HTTP header, and at most 64 characters.
 */
export const CLIENT_VERSION_PATTERN = /^[\x20-\x7E]{1,64}$/;

export type Platform = 'macos' | 'windows' | 'linux';

/**
 * Maps a host platform name (Node's `process.platform` or Lime's own name, in any case) to the
 * three values of the wire contract. `darwin`, `mac` and `macos` give `macos`, and `win32` and
 * `windows` give `windows`. Anything else gives `linux`, because Lime ships only for these three
 * and the other Unix-like systems Node reports (`freebsd`, `openbsd`) run Lime's Linux build.
 */
export function toPlatform(hostPlatform: string): Platform {
  const name = typeof hostPlatform === 'string' ? hostPlatform.trim().toLowerCase() : '';

  if (name === 'darwin' || name === 'mac' || name === 'macos') {
    return 'macos';
  }

  if (name === 'win32' || name === 'windows') {
    return 'windows';
  }

  return 'linux';
}

function text(rules: TextRules) {
  return z.string().superRefine((value, context) => {
    const message = checkText(value, rules);

    if (message !== undefined) {
      context.addIssue({ code: 'custom', message });
    }
  });
}

const keyPrefix = z.string().superRefine((value, context) => {
  const length = countCodePoints(value);

  if (length !== KEY_PREFIX_LENGTH) {
    context.addIssue({
      code: 'custom',
      message: `expected exactly ${KEY_PREFIX_LENGTH} characters, received ${length}`,
    });
    return;
  }

  const message =
    checkText(value, { max: KEY_PREFIX_LENGTH }) ??
    (/\s/u.test(value) ? 'expected no whitespace' : undefined);

  if (message !== undefined) {
    context.addIssue({ code: 'custom', message });
  }
});

const timestamp = z.string().superRefine((value, context) => {
  if (!TIMESTAMP_PATTERN.test(value)) {
    context.addIssue({
      code: 'custom',
      message: 'expected RFC 3339 UTC with whole seconds and Z, such as 2026-02-16T10:00:00Z',
    });
    return;
  }

  // Date.parse rolls 2026-02-30 over into March, so only a real date formats back unchanged.
  if (formatTimestamp(Date.parse(value)) !== value) {
    context.addIssue({ code: 'custom', message: 'expected a date and time that exist' });
  }
});

/**
 * The callback body. Keys are listed in the order they are serialised. Strict, so a field
 * added by mistake fails validation instead of reaching a relay.
 */
export const CallbackPayloadSchema = z
  .strictObject({
    event: z.literal('connect'),
    status: z.enum(['success', 'cancelled', 'error']),
    relay_id: z
      .string()
      .regex(
        RELAY_ID_PATTERN,
        'expected a relay id of letters, digits, ".", "_" and "-", at most 64',
      ),
    /** The link's `ref` parameter, absent when the link has none. */
    ref: text({ min: 1, max: FIELD_LIMITS.ref }).optional(),
    /** The same value as `ref`, under the name Lime's built-in sender uses. */
    ref_code: text({ min: 1, max: FIELD_LIMITS.ref }).optional(),
    timestamp,
    /** Idempotency key, identical on every attempt, that receivers dedupe on. */
    event_id: z.string().regex(UUID_V7_PATTERN, 'expected a lower-case UUID version 7'),
    key_prefix: keyPrefix,
    client: z.strictObject({
      version: z
        .string()
        .regex(CLIENT_VERSION_PATTERN, 'expected 1 to 64 printable ASCII characters'),
      platform: z.enum(['macos', 'windows', 'linux']),
      plugin_version: z.string().regex(PLUGIN_VERSION_PATTERN, 'expected a version such as 1.2.3'),
    }),
    error_code: z
      .string()
      .max(FIELD_LIMITS.errorCode)
      .regex(
        ERROR_CODE_PATTERN,
        'expected upper-case letters, digits and "_", starting with a letter',
      )
      .optional(),
    error_message: text({ max: FIELD_LIMITS.errorMessage, allowLineBreaks: true }).optional(),
  })
  .superRefine((payload, context) => {
    if (payload.ref !== payload.ref_code) {
      context.addIssue({
        code: 'custom',
        path: ['ref_code'],
        message: 'expected the same value as ref, or both absent',
      });
    }

    const isError = payload.status === 'error';

    for (const field of ['error_code', 'error_message'] as const) {
      const present = payload[field] !== undefined;

      if (present !== isError) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: isError
            ? 'expected a value with status "error"'
            : 'expected no value unless status is "error"',
        });
      }
    }
  });

export type CallbackPayload = z.output<typeof CallbackPayloadSchema>;
