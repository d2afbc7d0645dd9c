import type dns from 'node:dns';
import type https from 'node:https';
import { HttpsProxyAgent } from 'hpagent';
import { redactUrl } from './callback-url.js';
import { createGuardedLookup } from './address-guard.js';
import { classifyRequestError, failure, type AttemptOutcome } from './classify-response.js';

/**
 * Returns the proxy URL (`http://host:port` or `https://host:port`) for a callback URL, or
 * undefined to connect directly. Electron's `session.resolveProxy` and the HTTPS_PROXY and
 * NO_PROXY variables each provide one.
 */
export type ProxyResolver = (url: URL) => Promise<string | undefined>;

export type ProxyRoute = { agent?: https.Agent } | { failure: AttemptOutcome };

export interface ProxyRouter {
  /** Chooses how one attempt reaches `url`: directly (no agent), through a proxy, or not at all. */
  route(url: URL): Promise<ProxyRoute>;
  close(): void;
}

/**
 * Routes attempts through the proxy that `resolveProxy` names, one keep-alive tunnel agent per
 * proxy. Through a proxy the sender never connects to the target's address itself. So when
 * private addresses are not allowed, the target host is resolved here first and every address
 * it resolves to must be public.
 *
 * NOTE: the proxy resolves the host again on its own. A DNS answer that changes between this
 * check and the proxy's lookup (DNS rebinding) is not caught; only a direct connection checks
 * the address actually connected to.
 */
export function createProxyRouter(options: {
  resolveProxy?: ProxyResolver;
  /** Options of the tunnel agents: trust store and keep-alive, as the direct agent has. */
  agentOptions: https.AgentOptions;
  allowPrivateAddresses: boolean;
  resolve?: typeof dns.lookup;
}): ProxyRouter {
  const agents = new Map<string, HttpsProxyAgent>();
  // Proxies usually sit on private addresses, which the direct agent's guarded lookup rejects.
  // So the tunnel agents resolve the proxy's host with plain dns.lookup.
  const { lookup: _directLookup, ...tunnelOptions } = options.agentOptions;
  const lookup = createGuardedLookup({
    allowPrivate: options.allowPrivateAddresses,
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
  });

  const checkTarget = (url: URL): Promise<AttemptOutcome | undefined> =>
    new Promise((resolve) => {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      lookup(host, { all: true }, (error) => {
        resolve(error ? classifyRequestError(error, url) : undefined);
      });
    });

  const route = async (url: URL): Promise<ProxyRoute> => {
    if (options.resolveProxy === undefined) {
      return {};
    }

    let proxy: string | undefined;

    try {
      proxy = await options.resolveProxy(url);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { failure: failure('retry', 'network', `proxy lookup failed: ${detail}`) };
    }

    if (proxy === undefined) {
      return {};
    }

    const proxyUrl = URL.canParse(proxy) ? new URL(proxy) : undefined;

    if (proxyUrl === undefined || !['http:', 'https:'].includes(proxyUrl.protocol)) {
      const shown = proxyUrl === undefined ? 'an unreadable URL' : redactUrl(proxyUrl);
      return {
        failure: failure('retry', 'network', `unsupported proxy ${shown}; expected http or https`),
      };
    }

    if (!options.allowPrivateAddresses) {
      const rejected = await checkTarget(url);

      if (rejected !== undefined) {
        return { failure: rejected };
      }
    }

    let agent = agents.get(proxyUrl.href);

    if (agent === undefined) {
      agent = new HttpsProxyAgent({ ...tunnelOptions, keepAlive: true, proxy: proxyUrl });
      agents.set(proxyUrl.href, agent);
    }

    return { agent };
  };

  return {
    route,
    close: () => {
      for (const agent of agents.values()) {
        agent.destroy();
      }

      agents.clear();
    },
  };
}
