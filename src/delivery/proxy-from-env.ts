import type { ProxyResolver } from './proxy-route.js';

/**
 * Creates a proxy resolver from `HTTPS_PROXY` (or `https_proxy`) and `NO_PROXY` (or
 * `no_proxy`), as curl reads them: NO_PROXY lists host names, domain suffixes (`example.com`
 * and `.example.com` both match `a.example.com`), optional `:port`, or `*` for every host.
 * Returns undefined when no proxy is set.
 */
export function createEnvProxyResolver(
  env: Record<string, string | undefined>,
): ProxyResolver | undefined {
  const proxy = env.HTTPS_PROXY ?? env.https_proxy;

  if (proxy === undefined || proxy.trim() === '') {
    return undefined;
  }

  const exclusions = (env.NO_PROXY ?? env.no_proxy ?? '')
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');

  return async (url) => (isExcluded(url, exclusions) ? undefined : proxy.trim());
}

function isExcluded(url: URL, exclusions: string[]): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port === '' ? '443' : url.port;

  return exclusions.some((entry) => {
    if (entry === '*') {
      return true;
    }

    const { name, port: entryPort } = parseEntry(entry);

    if (entryPort !== undefined && entryPort !== port) {
      return false;
    }

    return host === name || host.endsWith(`.${name}`);
  });
}

/** Splits `host`, `host:port`, `[v6]:port` or a bare IPv6 address; drops a leading `*.` or `.`. */
function parseEntry(entry: string): { name: string; port?: string } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  let name = entry;
  let port: string | undefined;

  if (bracketed !== null) {
    name = bracketed[1] ?? entry;
    port = bracketed[2];
  } else if (entry.split(':').length === 2) {
    [name, port] = entry.split(':') as [string, string];
  }

  return { name: name.replace(/^\*?\./, ''), ...(port === undefined ? {} : { port }) };
}
