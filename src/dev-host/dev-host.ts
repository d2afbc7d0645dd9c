import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  activate,
  parseConnectLink,
  type ConnectWebhookPlugin,
  type HookResult,
  type LimeHost,
} from '../index.js';
import { registryFromDocument } from '../settings/callback-target.js';
import { RELAY_MODES, startLocalRelay, type LocalRelay, type RelayMode } from './local-relay.js';
import { createPanelRoutes, readJsonBody, type PanelRoutes } from '../panel/http-panel-routes.js';
import { PanelService } from '../panel/panel-service.js';

export type OutcomeName = 'confirmed' | 'cancelled' | 'failed';

export interface DevHostOptions {
  dataDir: string;
  registryPath: string;
  pagePort: number;
  relayPort: number;
  locale?: string;
  /** Folder of the built panel page. Default dist/panel beside the built development host. */
  panelDir?: string;
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
 * `local-relay` entry points at a local HTTPS relay, and the debug panel on 127.0.0.1 with
 * controls that fire outcomes from real `lime://connect` links and set how the relay answers.
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

  if (plugin.runtime === undefined) {
    await relay.close();
    throw new Error(`the plugin did not activate in ${host.dataDir}; see the log above`);
  }

  const panel = createPanelRoutes(
    new PanelService(plugin.runtime, { app: host.app, relays: registry }),
    options.panelDir ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'panel'),
  );
  const server = createServer((request, response) => {
    handle({ request, response, relay, plugin, fire, fired, panel }).catch((error: unknown) => {
      sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.pagePort, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await plugin.deactivate();
    await relay.close();

    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${options.pagePort} on 127.0.0.1 is in use: stop what uses it, or pick another ` +
          'port with --port N (0 picks a free one)',
        { cause: error },
      );
    }

    throw error;
  }

  const address = server.address();
  const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : options.pagePort}/`;

  return {
    relay,
    plugin,
    pageUrl,
    fired,
    fire,
    close: async () => {
      panel.close();
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
  panel: PanelRoutes;
}

async function handle(context: RouteContext): Promise<void> {
  const { request, response, relay, plugin } = context;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');

  // Only pages opened as 127.0.0.1 or localhost get answers, so a site that rebinds its own
  // host name to 127.0.0.1 cannot read the log or drive the relay.
  if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(request.headers.host ?? '')) {
    sendJson(response, 403, { error: 'expected Host 127.0.0.1 or localhost' });
    return;
  }

  if (await context.panel.handle(request, response, url)) {
    return;
  }

  if (request.method === 'POST' && url.pathname.startsWith('/api/dev/')) {
    const body = await readJsonBody(request);

    if (!body.ok) {
      sendJson(response, body.status, { error: body.error });
      return;
    }

    await handleDevControl(context, url.pathname, body.value);
    return;
  }

  sendJson(response, 404, { error: `no route for ${request.method ?? '?'} ${url.pathname}` });
}

/** The development controls: the relay's state, firing outcomes, and the relay's answer mode. */
async function handleDevControl(
  context: RouteContext,
  pathname: string,
  body: unknown,
): Promise<void> {
  const { response, relay, plugin } = context;
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;

  if (pathname === '/api/dev/state') {
    sendJson(response, 200, {
      result: {
        relay: { url: relay.url, mode: relay.mode, received: relay.received.slice(-50) },
        fired: context.fired.slice(-20),
      },
    });
    return;
  }

  if (pathname === '/api/dev/fire') {
    const kind = fields.kind;

    if (kind !== 'confirmed' && kind !== 'cancelled' && kind !== 'failed') {
      sendJson(response, 400, { error: 'kind: expected confirmed, cancelled or failed' });
      return;
    }

    sendJson(response, 200, { result: await context.fire(kind) });
    return;
  }

  if (pathname === '/api/dev/relay-mode') {
    const mode = fields.mode as RelayMode;

    if (!RELAY_MODES.includes(mode)) {
      sendJson(response, 400, { error: `mode: expected one of ${RELAY_MODES.join(', ')}` });
      return;
    }

    relay.mode = mode;

    if (mode === 'ok') {
      plugin.runtime?.resumeRelay(RELAY_ID);
      plugin.wake('relay back online');
    }

    sendJson(response, 200, { result: { mode } });
    return;
  }

  sendJson(response, 404, { error: `no development control at ${pathname}` });
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(value));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
