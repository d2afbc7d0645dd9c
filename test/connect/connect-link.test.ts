import { describe, expect, it } from 'vitest';
import { parseConnectLink, type ConnectLinkResult } from '../../src/connect/connect-link.js';

const KEY = 'sk-live-0123456789abcdef';

function link(result: ConnectLinkResult) {
  if (!result.ok) {
    throw new Error(`expected a link, received ${result.error.code}: ${result.error.message}`);
  }

  return result.link;
}

function error(result: ConnectLinkResult) {
  if (result.ok) {
    throw new Error('expected an error, received a link');
  }

  return result.error;
}

describe('parseConnectLink', () => {
  it('parses a valid link', () => {
    const parsed = link(
      parseConnectLink(`lime://connect?relay=acme&key=${KEY}&name=Work&ref=spring-sale`),
    );

    expect(parsed).toStrictEqual({ relay: 'acme', key: KEY, name: 'Work', ref: 'spring-sale' });
  });

  it('parses a link with only relay and key', () => {
    const parsed = link(parseConnectLink(`lime://connect?relay=acme&key=${KEY}`));

    expect(parsed).toStrictEqual({ relay: 'acme', key: KEY });
    expect('name' in parsed).toBe(false);
    expect('ref' in parsed).toBe(false);
  });

  it('accepts an upper-case scheme and host', () => {
    const parsed = link(parseConnectLink(`LIME://CONNECT?relay=acme&key=${KEY}`));

    expect(parsed.relay).toBe('acme');
  });

  it('accepts a trailing slash and ignores a fragment', () => {
    const parsed = link(parseConnectLink(`lime://connect/?relay=acme&key=${KEY}#ref=ignored`));

    expect(parsed).toStrictEqual({ relay: 'acme', key: KEY });
  });

  it('keeps parameter names case-sensitive', () => {
    expect(error(parseConnectLink(`lime://connect?RELAY=acme&key=${KEY}`)).code).toBe(
      'MISSING_RELAY',
    );
  });

  it('reports a missing relay', () => {
    const result = error(parseConnectLink(`lime://connect?key=${KEY}`));

    expect(result.code).toBe('MISSING_RELAY');
    expect(result.message).toContain('relay');
  });

  it('reports a missing key', () => {
    const result = error(parseConnectLink('lime://connect?relay=acme'));

    expect(result.code).toBe('MISSING_KEY');
    expect(result.message).toContain('key');
  });

  it('reports a link without a query', () => {
    expect(error(parseConnectLink('lime://connect')).code).toBe('MISSING_RELAY');
  });

  it('treats empty values as absent', () => {
    expect(error(parseConnectLink(`lime://connect?relay=&key=${KEY}`)).code).toBe('MISSING_RELAY');
    expect(error(parseConnectLink('lime://connect?relay=acme&key=')).code).toBe('MISSING_KEY');
    expect(error(parseConnectLink('lime://connect?relay=acme&key')).code).toBe('MISSING_KEY');

    const parsed = link(parseConnectLink(`lime://connect?relay=acme&key=${KEY}&name=&ref=`));

    expect(parsed).toStrictEqual({ relay: 'acme', key: KEY });
  });

  it('keeps the first of a repeated parameter', () => {
    const parsed = link(
      parseConnectLink(`lime://connect?relay=acme&key=${KEY}&ref=a&relay=evil&ref=b`),
    );

    expect(parsed.relay).toBe('acme');
    expect(parsed.ref).toBe('a');
  });

  it('keeps a first empty value over a later one', () => {
    expect(error(parseConnectLink(`lime://connect?relay=&key=${KEY}&relay=evil`)).code).toBe(
      'MISSING_RELAY',
    );
  });

  it('decodes percent escapes once', () => {
    const parsed = link(
      parseConnectLink(`lime://connect?relay=acme&key=${KEY}&ref=%2541&name=a%20b`),
    );

    expect(parsed.ref).toBe('%41');
    expect(parsed.name).toBe('a b');
  });

  it('keeps plus signs as plus signs', () => {
    const parsed = link(parseConnectLink('lime://connect?relay=acme&key=ab+cd/ef==&name=a+b'));

    expect(parsed.key).toBe('ab+cd/ef==');
    expect(parsed.name).toBe('a+b');
  });

  it('decodes %2B to a plus sign', () => {
    expect(link(parseConnectLink('lime://connect?relay=acme&key=ab%2Bcdefgh')).key).toBe(
      'ab+cdefgh',
    );
  });

  it('keeps a name with emoji and U+2028 exactly', () => {
    const name = 'My key 🔑\u2028second line';
    const parsed = link(
      parseConnectLink(`lime://connect?relay=acme&key=${KEY}&name=${encodeURIComponent(name)}`),
    );

    expect(parsed.name).toBe(name);
  });

  it('decodes percent-encoded parameter names', () => {
    expect(link(parseConnectLink(`lime://connect?%72elay=acme&key=${KEY}`)).relay).toBe('acme');
  });

  it.each([
    ['a lone percent sign', '%'],
    ['a truncated UTF-8 sequence', '%E0%A4%A'],
    ['an invalid UTF-8 byte', '%FF'],
    ['a UTF-8 encoded surrogate', '%ED%A0%80'],
    ['a non-hex escape', '%zz'],
  ])('rejects %s as INVALID_URL naming the parameter', (_label, escape) => {
    const result = error(parseConnectLink(`lime://connect?relay=acme&key=${KEY}&ref=${escape}`));

    expect(result.code).toBe('INVALID_URL');
    expect(result.message).toContain('ref');
  });

  it('names the key parameter without its value', () => {
    const result = error(parseConnectLink(`lime://connect?relay=acme&key=${KEY}%`));

    expect(result.code).toBe('INVALID_URL');
    expect(result.message).toContain('key');
    expect(result.message).not.toContain(KEY);
  });

  it('ignores malformed escapes in unknown parameters', () => {
    const parsed = link(parseConnectLink(`lime://connect?relay=acme&key=${KEY}&utm=%&x%=1`));

    expect(parsed).toStrictEqual({ relay: 'acme', key: KEY });
  });

  it('ignores a malformed escape in a repeated parameter', () => {
    expect(link(parseConnectLink(`lime://connect?relay=acme&key=${KEY}&relay=%`)).relay).toBe(
      'acme',
    );
  });

  it.each([
    ['an https link', `https://connect?relay=acme&key=${KEY}`],
    ['a lime-like scheme', `limes://connect?relay=acme&key=${KEY}`],
    ['text without a scheme', 'connect?relay=acme'],
    ['an empty string', ''],
    ['a link without //', `lime:connect?relay=acme&key=${KEY}`],
    ['another host', `lime://settings?relay=acme&key=${KEY}`],
    ['a host with a port', `lime://connect:80?relay=acme&key=${KEY}`],
    ['a host with user info', `lime://user@connect?relay=acme&key=${KEY}`],
    ['a path after the host', `lime://connect/extra?relay=acme&key=${KEY}`],
  ])('rejects %s', (_label, input) => {
    const result = error(parseConnectLink(input));

    expect(result.code).toBe('INVALID_URL');
    expect(result.message).not.toContain(KEY);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { relay: 'acme', key: KEY }],
    ['an array', [`lime://connect?relay=acme&key=${KEY}`]],
    ['a URL object', new URL(`lime://connect?relay=acme&key=${KEY}`)],
  ])('rejects %s as input', (_label, input) => {
    const result = error(parseConnectLink(input));

    expect(result.code).toBe('INVALID_URL');
    expect(result.message).toContain('expected a lime://connect link as a string');
  });

  it('strips surrounding spaces and control characters', () => {
    expect(link(parseConnectLink(`  lime://connect?relay=acme&key=${KEY}\n`)).relay).toBe('acme');
  });
});
