/**
 * The contract between Lime and this plugin. Lime calls `activate(host)` once and then the
 * three Connect hooks; names and shapes here are fixed by Lime's plugin API.
 */

export interface LimeLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface LimeHost {
  /** Absolute, writable folder owned by this plugin. */
  dataDir: string;
  app: { version: string; platform: string; locale?: string };
  /** Saved plugin-centre settings; validated by the settings schema before use. */
  config?: unknown;
  /** Relay registry lookup; entries use the `providers[]` format of `registry.json`. */
  relays?: { get(relayId: string): unknown };
  log?: LimeLogger;
}

export interface ConnectOutcome {
  /** The link's `relay` parameter. */
  relay: string;
  /** The API key. Only its first 7 characters are kept; the rest is never stored or sent. */
  key: string;
  name?: string;
  ref?: string;
  /** One per opened dialog; the same outcome reported twice for one flow is queued once. */
  flowId?: string;
  /** When the user acted; defaults to the time of the hook call. */
  occurredAt?: string | Date;
  /** Required with `connect:failed`. */
  error?: { code: string; message: string };
}

export type HookResult =
  { queued: true; eventId: string } | { queued: false; reason: string; message: string };

export type HookName = 'connect:confirmed' | 'connect:cancelled' | 'connect:failed';

export interface ActivatedPlugin {
  hooks: {
    'connect:confirmed'(outcome: ConnectOutcome): Promise<HookResult>;
    'connect:cancelled'(outcome: ConnectOutcome): Promise<HookResult>;
    'connect:failed'(outcome: ConnectOutcome): Promise<HookResult>;
  };
  deactivate(): Promise<void>;
}
