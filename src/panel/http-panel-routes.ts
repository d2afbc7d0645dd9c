import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { PanelBridge } from './bridge.js';
import { BridgeArgumentError, dispatchBridgeCall } from './bridge-schemas.js';

/** Largest request body the panel routes read, in bytes; the settings object is the largest. */
export const MAX_PANEL_REQUEST_BYTES = 256 * 1024;

/** Files of dist/panel served by the development host, with their content types. */
const PANEL_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/panel.js': 'panel.js',
  '/panel.css': 'panel.css',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Same policy as the page's meta tag, sent as a header too. uPlot and Preact set styles through
 * the CSSOM, which `style-src 'self'` allows.
 */
export const PANEL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Interval of the comment line that keeps an idle Server-Sent Events stream open. */
const KEEPALIVE_MS = 15_000;

export interface PanelRoutes {
  /** Serves a panel request; returns false when the path is not a panel route. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  /** Ends every open change stream, so the server can close. */
  close(): void;
}

/**
 * The development host's side of the panel bridge: the page and its assets from `panelDir`,
 * `POST /api/panel/call` with `{ method, args }` for every bridge method, and
 * `GET /api/panel/changes`, a Server-Sent Events stream with one `change` event per change.
 */
export function createPanelRoutes(bridge: PanelBridge, panelDir: string): PanelRoutes {
  const streams = new Set<ServerResponse>();

  const handle = async (
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
  ): Promise<boolean> => {
    const file = PANEL_FILES[url.pathname];

    if (request.method === 'GET' && file !== undefined) {
      await serveFile(response, path.join(panelDir, file));
      return true;
    }

    if (request.method === 'POST' && url.pathname === '/api/panel/call') {
      const body = await readJsonBody(request);

      if (!body.ok) {
        sendJson(response, body.status, { error: body.error });
        return true;
      }

      const { method, args } = (body.value ?? {}) as { method?: unknown; args?: unknown };

      try {
        const result = await dispatchBridgeCall(bridge, method, args ?? []);
        sendJson(response, 200, { result: result ?? null });
      } catch (error) {
        const status = error instanceof BridgeArgumentError ? 400 : 500;
        sendJson(response, status, {
          error: error instanceof Error ? error.message : String(error),
        });
      }

      return true;
    }

    if (request.method === 'GET' && url.pathname === '/api/panel/changes') {
      openChangeStream(response);
      return true;
    }

    return false;
  };

  const openChangeStream = (response: ServerResponse) => {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write('retry: 1000\n\n');
    streams.add(response);
    const unsubscribe = bridge.subscribe(() => {
      response.write('event: change\ndata: {}\n\n');
    });
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
    response.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(response);
    });
  };

  return {
    handle,
    close: () => {
      for (const stream of streams) {
        stream.end();
      }
    },
  };
}

async function serveFile(response: ServerResponse, file: string): Promise<void> {
  let contents: Buffer;

  try {
    contents = await fs.readFile(file);
  } catch {
    sendJson(response, 404, {
      error: `${path.basename(file)} is missing from ${path.dirname(file)}; run npm run build`,
    });
    return;
  }

  response.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-security-policy': PANEL_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  response.end(contents);
}

/**
 * Reads a JSON request body. Only `application/json` is accepted: a cross-site form cannot
 * send that content type without a CORS preflight, which this server never grants.
 */
export async function readJsonBody(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; status: number; error: string }> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
    return { ok: false, status: 415, error: 'expected content-type: application/json' };
  }

  const chunks: Buffer[] = [];
  let size = 0;

  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;

    if (size > MAX_PANEL_REQUEST_BYTES) {
      return {
        ok: false,
        status: 413,
        error: `request body over ${MAX_PANEL_REQUEST_BYTES} bytes`,
      };
    }

    chunks.push(chunk);
  }

  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid JSON' };
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(value));
}
