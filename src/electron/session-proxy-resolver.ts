import type { ProxyResolver } from '../delivery/proxy-route.js';
import type { ElectronApi } from './electron-api.js';

/**
 * Creates a proxy resolver from Electron's `session.resolveProxy`, which applies the system
 * proxy settings and PAC script. It returns a PAC result such as
 * `PROXY proxy.corp:8080; DIRECT`; the first `PROXY` or `HTTPS` entry is used.
 *
 * NOTE: SOCKS entries are skipped, because the sender tunnels through HTTP CONNECT only; a
 * result with nothing but SOCKS entries connects directly.
 */
export function createSessionProxyResolver(
  session: ElectronApi['session']['defaultSession'],
): ProxyResolver {
  return async (url) => proxyFromPacResult(await session.resolveProxy(url.href));
}

/** Reads the first usable entry of a PAC result; undefined means connect directly. */
export function proxyFromPacResult(result: string): string | undefined {
  for (const entry of result.split(';')) {
    const [kind, hostPort] = entry.trim().split(/\s+/);

    if (kind === 'DIRECT') {
      return undefined;
    }

    if ((kind === 'PROXY' || kind === 'HTTPS') && hostPort !== undefined) {
      return `${kind === 'HTTPS' ? 'https' : 'http'}://${hostPort}`;
    }
  }

  return undefined;
}
