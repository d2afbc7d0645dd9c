import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import {
  activate,
  parseConnectLink,
  type ConnectWebhookPlugin,
  type HookResult,
  type LimeHost,
} from '../index.js';
import { registryFromDocument } from '../settings/callback-target.js';
import type { OutboxEvent } from '../connect-webhook.js';
import { RELAY_MODES, startLocalRelay, type LocalRelay, type RelayMode } from './local-relay.js';
import { renderDevPage } from './dev-page.js';

export type OutcomeName = 'confirmed' | 'cancelled' | 'failed';

export interface DevHostOptions {
  dataDir: string;
  registryPath: string;
  pagePort: number;
  relayPort: number;
  locale?: string;
  /** Receives the plugin's log lines. */
  log: (level: string, ...args: unknown[]) => void;
}

export interface FiredOutcome {
  kind: OutcomeName;
  link: string;
  result: HookResult;
}

export interface DevHost {
  relay: LocalRelay;
  plugin: ConnectWebhookPlugin;
  pageUrl: string;
  fired: FiredOutcome[];
  fire(kind: OutcomeName): Promise<FiredOutcome>;
  close(): Promise<void>;
}

const RELAY_ID = 'local-relay';
const CAMPAIGNS = ['spring-launch', 'newsletter', 'partner-blog'];

/**
 * Runs the plugin as Lime would: a host object per the plugin contract, a relay registry whose
 * `local-relay` entry points at a local HTTPS relay, and a page on 127.0.0.1 that lists
 * deliveries and fires outcomes from real `lime://connect` links.
 */
export async function startDevHost(options: DevHostOptions): Promise<DevHost> {
  const relay = await startLocalRelay({ port: options.relayPort });
  const document = JSON.parse(await fs.readFile(options.registryPath, 'utf8')) as {
    providers: Array<{ id: string; webhook?: { callback_url?: string } }>;
  };

  for (const provider of document.providers) {
    if (provider.id === RELAY_ID && provider.webhook !== undefined) {
      provider.webhook.callback_url = relay.url;
    }
  }

  const registry = registryFromDocument(document);
  const host: LimeHost = {
    dataDir: path.resolve(options.dataDir),
    app: { version: '1.6.0', platform: process.platform, locale: options.locale ?? 'en' },
    config: {
      relays: { [RELAY_ID]: { secret: relay.secret } },
      retry: { initialDelayMs: 1000, maxDelayMs: 30_000, maxAgeHours: 72 },
      network: {
        allowPrivateAddresses: true,
        extraCaCertificates: [relay.certificate],
        timeoutMs: 5000,
      },
    },
    relays: registry,
    log: {
      debug: (...args) => options.log('debug', ...args),
      info: (...args) => options.log('info', ...args),
      warn: (...args) => options.log('warn', ...args),
      error: (...args) => options.log('error', ...args),
    },
  };

  // The relay's certificate and secret are new on every start, so the host's config must win
  // over settings saved by an earlier run.
  await fs.rm(path.join(host.dataDir, 'settings.json'), { force: true });
  const plugin = await activate(host);
  const fired: FiredOutcome[] = [];

  const fire = async (kind: OutcomeName): Promise<FiredOutcome> => {
    const key = `sk-dev-${randomBytes(18).toString('hex')}`;
    const ref = CAMPAIGNS[fired.length % CAMPAIGNS.length] ?? 'dev';
    const link = `lime://connect?relay=${RELAY_ID}&key=${key}&name=${encodeURIComponent('Dev key ✓')}&ref=${ref}`;
    const parsed = parseConnectLink(link);

    if (!parsed.ok) {
      throw new Error(`the development link did not parse: ${parsed.error.message}`);
    }

    const outcome = { ...parsed.link, flowId: randomUUID() };
    const result =
      kind === 'confirmed'
        ? await plugin.hooks['connect:confirmed'](outcome)
        : kind === 'cancelled'
          ? await plugin.hooks['connect:cancelled'](outcome)
          : await plugin.hooks['connect:failed']({
              ...outcome,
              error: { code: 'STORE_WRITE_FAILED', message: 'could not write the key store' },
            });
    // The page shows the link with the key cut to its prefix, as everything else does.
    const shown = { kind, link: link.replace(key, `${key.slice(0, 7)}…`), result };
    fired.push(shown);
    return shown;
  };

  const server = createServer((request, response) => {
    handle({ request, response, relay, plugin, fire, fired }).catch((error: unknown) => {
      sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.pagePort, '127.0.0.1', () => resolve());
  });

  const address = server.address();
  const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : options.pagePort}/`;

  return {
    relay,
    plugin,
    pageUrl,
    fired,
    fire,
    close: async () => {
      await closeServer(server);
      await plugin.deactivate();
      await relay.close();
    },
  };
}

interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  relay: LocalRelay;
  plugin: ConnectWebhookPlugin;
  fire(kind: OutcomeName): Promise<FiredOutcome>;
  fired: FiredOutcome[];
}

async function handle(context: RouteContext): Promise<void> {
  const { request, response, relay, plugin } = context;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');

  if (request.method === 'GET' && url.pathname === '/') {
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy':
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    });
    response.end(renderDevPage());
    return;
  }

  if (request.method === 'GET' && url.pathname === '/api/state') {
    const runtime = plugin.runtime;
    const events =
      runtime === undefined
        ? []
        : [...runtime.outbox.events()]
            .sort((left, right) => right.queuedAt - left.queuedAt)
            .slice(0, 200)
            .map(toView);
    sendJson(response, 200, {
      relay: { url: relay.url, mode: relay.mode, received: relay.received.slice(-50) },
      fired: context.fired.slice(-20),
      events,
      drops: runtime?.drops,
    });
    return;
  }

  if (request.method === 'POST' && url.pathname === '/api/fire') {
    const kind = url.searchParams.get('kind');

    if (kind !== 'confirmed' && kind !== 'cancelled' && kind !== 'failed') {
      sendJson(response, 400, { error: 'kind: expected confirmed, cancelled or failed' });
      return;
    }

    sendJson(response, 200, await context.fire(kind));
    return;
  }

  if (request.method === 'POST' && url.pathname === '/api/relay-mode') {
    const mode = url.searchParams.get('mode') as RelayMode | null;

    if (mode === null || !RELAY_MODES.includes(mode)) {
      sendJson(response, 400, { error: `mode: expected one of ${RELAY_MODES.join(', ')}` });
      return;
    }

    relay.mode = mode;

    if (mode === 'ok') {
      plugin.runtime?.resumeRelay(RELAY_ID);
      plugin.wake('relay back online');
    }

    sendJson(response, 200, { mode });
    return;
  }

  sendJson(response, 404, { error: `no route for ${request.method ?? '?'} ${url.pathname}` });
}

function toView(event: OutboxEvent): Record<string, unknown> {
  return {
    id: event.id,
    relay: event.relay,
    ref: event.ref,
    status: event.status,
    state: event.state === 'pending' && event.attemptCount > 0 ? 'retrying' : event.state,
    reason: event.reason,
    queuedAt: event.queuedAt,
    attemptCount: event.attemptCount,
    nextAt: event.state === 'pending' ? event.nextAt : undefined,
    attempts: event.attempts.slice(-10),
  };
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(value));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
