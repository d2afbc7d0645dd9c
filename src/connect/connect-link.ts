import { describeType } from '../delivery/callback-url.js';

/** The parameters of a `lime://connect` link, percent-decoded. */
export interface ConnectLink {
  relay: string;
  /** The API key. Never log it or put it in a message. */
  key: string;
  name?: string;
  ref?: string;
}

export type ConnectLinkError = {
  code: 'INVALID_URL' | 'MISSING_RELAY' | 'MISSING_KEY';
  message: string;
};

export type ConnectLinkResult =
  { ok: true; link: ConnectLink } | { ok: false; error: ConnectLinkError };

type LinkParameter = keyof ConnectLink;

const LINK_PARAMETERS: readonly LinkParameter[] = ['relay', 'key', 'name', 'ref'];

/** An RFC 3986 scheme followed by its colon. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Leading and trailing C0 controls and spaces, which the WHATWG URL parser also strips. */
const OUTER_CONTROLS = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;

/**
 * Parses `lime://connect?relay=…&key=…&name=…&ref=…`.
 *
 * - The scheme `lime` and the host `connect` match in any case. The path must be empty or `/`,
 *   and a fragment is ignored.
 * - `relay` and `key` are required. A parameter with an empty value counts as absent.
 * - A repeated parameter keeps its first occurrence, so text appended to a link cannot replace
 *   the relay or key that came first. A first occurrence with an empty value still counts.
 * - Names and values are percent-decoded exactly once with `decodeURIComponent`: `%2541` gives
 *   `%41`, and `+` stays `+` because keys may contain it and form decoding would turn it into a
 *   space. A malformed escape in the value of one of the four parameters gives INVALID_URL
 *   naming it. Other parameters are ignored, their values undecoded, and so is a name with a
 *   malformed escape, which cannot decode to one of the four.
 *
 * Never throws, for any input. Messages never contain a parameter value.
 */
export function parseConnectLink(url: unknown): ConnectLinkResult {
  try {
    return parse(url);
  } catch {
    // parse catches URIError itself and calls nothing else that throws. This catch keeps the
    // never-throws contract if that changes.
    return invalid('expected a lime://connect link, received text that could not be parsed');
  }
}

function parse(url: unknown): ConnectLinkResult {
  if (typeof url !== 'string') {
    return invalid(`expected a lime://connect link as a string, received ${describeType(url)}`);
  }

  const text = url.replace(OUTER_CONTROLS, '');
  const scheme = SCHEME.exec(text);

  if (scheme === null) {
    return invalid('expected a lime://connect link, received text without a URL scheme');
  }

  if (scheme[1]?.toLowerCase() !== 'lime') {
    return invalid('expected a lime://connect link, received a link with another scheme');
  }

  const afterScheme = text.slice(scheme[0].length);

  if (!afterScheme.startsWith('//')) {
    return invalid('expected lime://connect, received a lime: link without "//"');
  }

  const hierarchy = afterScheme.slice(2);
  const hostEnd = findFirst(hierarchy, '/?#');

  if (hierarchy.slice(0, hostEnd).toLowerCase() !== 'connect') {
    return invalid('expected lime://connect, received a lime:// link with another host');
  }

  const rest = hierarchy.slice(hostEnd);
  const pathEnd = findFirst(rest, '?#');
  const path = rest.slice(0, pathEnd);

  if (path !== '' && path !== '/') {
    return invalid('expected lime://connect with no path, received a path after the host');
  }

  let query = '';

  if (rest[pathEnd] === '?') {
    const afterMark = rest.slice(pathEnd + 1);
    query = afterMark.slice(0, findFirst(afterMark, '#'));
  }

  return readParameters(query);
}

function readParameters(query: string): ConnectLinkResult {
  const values = new Map<LinkParameter, string>();

  for (const pair of query === '' ? [] : query.split('&')) {
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    const name = decode(rawName);

    if (name === undefined || !isLinkParameter(name) || values.has(name)) {
      continue;
    }

    const value = decode(rawValue);

    if (value === undefined) {
      return invalid(`the ${name} parameter contains a malformed percent escape`);
    }

    values.set(name, value);
  }

  const relay = values.get('relay') ?? '';
  const key = values.get('key') ?? '';

  if (relay === '') {
    return {
      ok: false,
      error: { code: 'MISSING_RELAY', message: 'the relay parameter is missing or empty' },
    };
  }

  if (key === '') {
    return {
      ok: false,
      error: { code: 'MISSING_KEY', message: 'the key parameter is missing or empty' },
    };
  }

  const link: ConnectLink = { relay, key };
  const name = values.get('name') ?? '';
  const ref = values.get('ref') ?? '';

  if (name !== '') {
    link.name = name;
  }

  if (ref !== '') {
    link.ref = ref;
  }

  return { ok: true, link };
}

/** Percent-decodes once. Returns undefined for a malformed escape or invalid UTF-8. */
function decode(raw: string): string | undefined {
  if (!raw.includes('%')) {
    return raw;
  }

  try {
    return decodeURIComponent(raw);
  } catch {
    // decodeURIComponent throws URIError for '%', '%E0%A4%A' and '%FF', which the caller reports.
    return undefined;
  }
}

function isLinkParameter(name: string): name is LinkParameter {
  return (LINK_PARAMETERS as readonly string[]).includes(name);
}

/** Returns the index of the first character of `text` found in `characters`, or text.length. */
function findFirst(text: string, characters: string): number {
  for (let index = 0; index < text.length; index++) {
    if (characters.includes(text.charAt(index))) {
      return index;
    }
  }

  return text.length;
}

function invalid(message: string): ConnectLinkResult {
  return { ok: false, error: { code: 'INVALID_URL', message } };
}
