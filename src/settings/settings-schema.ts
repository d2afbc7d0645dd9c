import * as z from 'zod';
import { checkCallbackUrl } from '../delivery/callback-url.js';

/** Relay ids as Lime's registry writes them: `proxycast-mock`, `acme_relay`, `relay.cn`. */
export const RELAY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A Standard Webhooks signing secret: `whsec_` then base64 of 24 to 64 random bytes. */
const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

const callbackUrl = z.string().superRefine((value, context) => {
  const check = checkCallbackUrl(value);

  if (!check.ok) {
    context.addIssue({ code: 'custom', message: check.message });
  }
});

const secret = z.string().superRefine((value, context) => {
  if (!SECRET_PATTERN.test(value)) {
    context.addIssue({
      code: 'custom',
      message: 'expected a Standard Webhooks secret: "whsec_" followed by base64 of 24 to 64 bytes',
    });
    return;
  }

  const bytes = Buffer.from(value.slice('whsec_'.length), 'base64').length;

  if (bytes < 24 || bytes > 64) {
    context.addIssue({
      code: 'custom',
      message: `expected a secret of 24 to 64 bytes after "whsec_", received ${bytes} bytes`,
    });
  }
});

export const RelaySettingsSchema = z
  .strictObject({
    /** Callback URL that adds to or overrides the registry's `webhook.callback_url`. */
    callbackUrl: callbackUrl.optional().meta({
      description:
        "https:// URL that receives this relay's callbacks, in place of the registry's webhook.callback_url. Default none.",
    }),
    /** Signing secret; when set, every attempt carries a `webhook-signature` header. */
    secret: secret.optional().meta({
      description:
        'Standard Webhooks signing secret (whsec_ followed by base64). When set, every attempt is signed. Default none.',
    }),
    /** When true, events for this relay are kept but not sent. Set by a `410 Gone` reply. */
    paused: z.boolean().optional().meta({
      description:
        "Keeps this relay's events without sending them. Set by a 410 Gone response. Default false.",
    }),
  })
  .describe('Per-relay overrides');

export const RetrySettingsSchema = z.strictObject({
  /** Delay before the first retry, in milliseconds. Default 1000. */
  initialDelayMs: z.number().int().min(100).max(3_600_000).default(1000).meta({
    description: 'Delay before the first retry, in milliseconds. Default 1000.',
  }),
  /** Upper bound of a retry delay, including one asked for by `Retry-After`, in milliseconds. Default 3600000 (1 hour). */
  maxDelayMs: z.number().int().min(1000).max(86_400_000).default(3_600_000).meta({
    description:
      'Upper bound of a retry delay, including one requested by Retry-After, in milliseconds. Default 3600000 (1 hour).',
  }),
  /** Age after which an undelivered event is dead, in hours. Default 72. */
  maxAgeHours: z.number().min(1).max(720).default(72).meta({
    description: 'Age after which an undelivered event is dead, in hours. Default 72.',
  }),
});

export const NetworkSettingsSchema = z.strictObject({
  /** Allows callback URLs that resolve to loopback, private or link-local addresses. Default false. */
  allowPrivateAddresses: z.boolean().default(false).meta({
    description:
      'Allows callback URLs that resolve to loopback, private or link-local addresses, for development. Default false.',
  }),
  /** PEM certificates trusted in addition to the system store. Default none. */
  extraCaCertificates: z
    .array(
      z
        .string()
        .max(65_536)
        .regex(/-----BEGIN CERTIFICATE-----/, 'expected a PEM certificate'),
    )
    .max(16)
    .default([])
    .meta({
      description:
        'PEM certificates trusted in addition to the system store, at most 16. Default none.',
    }),
  /** Deadline of one attempt from lookup to the last byte read, in milliseconds. Default 10000. */
  timeoutMs: z.number().int().min(500).max(120_000).default(10_000).meta({
    description:
      'Deadline of one attempt from DNS lookup to the last byte read, in milliseconds. Default 10000.',
  }),
});

export const SettingsSchema = z
  .strictObject({
    /** Master switch; when false, outcomes are recorded as skipped. Default true. */
    enabled: z.boolean().default(true).meta({
      description: 'Sends callbacks. When false, outcomes are recorded as skipped. Default true.',
    }),
    /** Per-relay callback URL, secret and pause, keyed by relay id. Default none. */
    relays: z
      .record(
        z
          .string()
          .regex(
            RELAY_ID_PATTERN,
            'expected a relay id of letters, digits, ".", "_" and "-", at most 64',
          ),
        RelaySettingsSchema,
      )
      .default({})
      .meta({ description: 'Callback URL, signing secret and pause per relay id. Default none.' }),
    /** Reads `webhook.callback_url` from Lime's relay registry. Default true. */
    useRegistry: z.boolean().default(true).meta({
      description: "Reads webhook.callback_url from Lime's relay registry. Default true.",
    }),
    retry: RetrySettingsSchema.prefault({}).meta({
      description: 'Retry timing of undelivered callbacks.',
    }),
    network: NetworkSettingsSchema.prefault({}).meta({
      description: 'Address rules, trusted certificates and timeouts of callback requests.',
    }),
  })
  .superRefine((settings, context) => {
    if (settings.retry.maxDelayMs < settings.retry.initialDelayMs) {
      context.addIssue({
        code: 'custom',
        path: ['retry', 'maxDelayMs'],
        message: `expected at least retry.initialDelayMs (${settings.retry.initialDelayMs})`,
      });
    }
  });

export type Settings = z.output<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;
export type RelaySettings = z.output<typeof RelaySettingsSchema>;

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

/** Formats the first zod issue as `field: message`, naming the dotted path of the field. */
export function formatIssue(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];

  if (issue === undefined) {
    return { field: prefix || '(root)', message: 'invalid value' };
  }

  const field =
    [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.') || '(root)';
  return { field, message: `${field}: ${issue.message}` };
}
