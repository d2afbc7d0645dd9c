/** Stable error codes. Each one is listed in the README's error table. */
export type ErrorCode =
  | 'INVALID_URL'
  | 'MISSING_RELAY'
  | 'MISSING_KEY'
  | 'INVALID_OUTCOME'
  | 'INVALID_SETTINGS'
  | 'INVALID_REGISTRY'
  | 'INVALID_CALLBACK_URL'
  | 'ADDRESS_NOT_ALLOWED'
  | 'OUTBOX_IO'
  | 'OUTBOX_FULL'
  | 'RATE_LIMITED';

/** Base class for every error this plugin raises; `code` is stable across versions. */
export class ConnectWebhookError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectWebhookError';
    this.code = code;
  }
}

/** Input that failed validation, kept apart from misuse of the API by the caller. */
export class ValidationError extends ConnectWebhookError {
  /** Dotted path of the field that failed, such as `relays.acme.callbackUrl`. */
  readonly field: string;

  constructor(code: ErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ValidationError';
    this.field = field;
  }
}
