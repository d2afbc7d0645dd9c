import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import { TEST_SECRET } from './plugin-callbacks.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let child: ChildProcessWithoutNullStreams;
let output = '';
let url: string;
let certificate: string;

/** Resolves with the first match of `pattern` in the example's output. */
function waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output);

      if (match !== null) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(match);
      }
    };
    const timer = setInterval(check, 20);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`expected output matching ${pattern} within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    check();
  });
}

function send(
  method: string,
  pathname: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      new URL(pathname, url),
      { method, ca: certificate, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [path.join(root, 'examples', 'relay-receiver.mjs'), '--port', '0', '--secret', TEST_SECRET],
    { cwd: root },
  );
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const [, certificatePath] = await waitForOutput(/^certificate (.+)$/m);
  [, url] = (await waitForOutput(/^listening on (\S+)$/m)) as unknown as [string, string];
  certificate = await fs.readFile(certificatePath!, 'utf8');
});

afterAll(() => {
  if (child.exitCode === null) {
    child.kill('SIGKILL');
  }
});

describe('examples/relay-receiver.mjs', () => {
  it('does not print a secret it was given', () => {
    expect(output).not.toContain(TEST_SECRET);
    expect(output).not.toContain('generated secret');
  });

  it('prints a verified callback from the plugin', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'example-relay-'));
    let plugin: ConnectWebhookPlugin | undefined;

    try {
      plugin = await activate({
        dataDir,
        app: { version: '1.6.0', platform: 'linux' },
        config: {
          relays: { acme: { callbackUrl: url, secret: TEST_SECRET } },
          network: { allowPrivateAddresses: true, extraCaCertificates: [certificate] },
        },
      });
      const result = await plugin.hooks['connect:failed']({
        relay: 'acme',
        key: 'sk-example-0123456789',
        ref: 'launch',
        error: { code: 'STORE_WRITE_FAILED', message: 'disk full' },
      });
      expect(result.queued).toBe(true);

      const [line] = await waitForOutput(/^accepted .+$/m);

      expect(line).toContain(result.queued ? result.eventId : '?');
      expect(line).toContain('relay=acme ref=launch status=error STORE_WRITE_FAILED');
      expect(line).toContain('key_prefix=sk-exam');
      expect(line).toContain('total=1 success=0.0% cancel=0.0%');
    } finally {
      await plugin?.deactivate();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('rejects an unsigned request with 401', async () => {
    const response = await send('POST', '/lime/callback', '{"event":"connect"}', {
      'webhook-id': 'msg_unsigned',
    });

    expect(response.status).toBe(401);
    await waitForOutput(/^rejected 401 signature: /m);
  });

  it('serves the tally at /stats', async () => {
    const response = await send('GET', '/stats', '');
    const stats = JSON.parse(response.body) as { total: number; error: number };

    expect(response.status).toBe(200);
    expect(stats).toMatchObject({ total: 1, error: 1 });
  });

  it('prints the tally and exits 0 on SIGINT', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');

    expect(await exited).toBe(0);
    expect(output).toMatch(/"errorCodes": \[\s*\{\s*"code": "STORE_WRITE_FAILED"/);
  });
});
