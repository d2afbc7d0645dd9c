/** Result of checking a callback URL's syntax; addresses are checked later, at connect time. */
export type CallbackUrlCheck = { ok: true; url: URL } | { ok: false; message: string };

/** Maximum length of a callback URL, in characters. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/**
 * Checks that a callback URL is one the plugin may post to: parsed by the WHATWG URL parser
 * as `https:`, with no user name or password. The message never repeats credentials.
 */
export function checkCallbackUrl(input: unknown): CallbackUrlCheck {
  if (typeof input !== 'string') {
    return { ok: false, message: `expected a string, received ${describeType(input)}` };
  }

  if (input.length > MAX_CALLBACK_URL_LENGTH) {
    return {
      ok: false,
      message: `expected at most ${MAX_CALLBACK_URL_LENGTH} characters, received ${input.length}`,
    };
  }

  let url: URL;

  try {
    url = new URL(input);
  } catch {
    return {
      ok: false,
      message: 'expected an absolute https:// URL, received text that is not a URL',
    };
  }

  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'expected a URL without a user name or password' };
  }

  if (url.protocol !== 'https:') {
    return { ok: false, message: `expected an https:// URL, received ${url.protocol}//` };
  }

  return { ok: true, url };
}

/** Formats a URL for logs and messages: origin and path only, without query or fragment. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }

  if (Array.isArray(value)) {
    return 'an array';
  }

  return typeof value;
}
