import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runDevHost(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'dist', 'dev-host', 'main.js'), ...args],
      { cwd: root },
    );
    let output = '';
    // A host that hangs is killed before the test times out, so no process outlives the run.
    const killer = setTimeout(() => {
      output += '\n(killed after 25 s)';
      child.kill('SIGKILL');
    }, 25_000);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

describe('development host --once', () => {
  it('exits 0 after the relay verified three callbacks', async () => {
    const { code, output } = await runDevHost(['--once']);

    expect(output).toContain('OK: the relay received and verified all 3 callbacks');
    expect(output).toMatch(/answered 503/);
    expect(code).toBe(0);
  });

  it('exits 1 when the relay keeps failing', async () => {
    const { code, output } = await runDevHost([
      '--once',
      '--relay-mode',
      'fail-503',
      '--timeout',
      '2',
    ]);

    expect(output).toContain('FAIL');
    expect(code).toBe(1);
  });

  it('rejects an unknown relay mode naming the option', async () => {
    const { code, output } = await runDevHost(['--once', '--relay-mode', 'sometimes']);

    expect(output).toContain('--relay-mode: expected one of');
    expect(code).toBe(1);
  });
});

describe('development host on a taken port', () => {
  it('exits 1 and suggests --port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const { port } = blocker.address() as net.AddressInfo;
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dev-host-port-'));

    try {
      const { code, output } = await runDevHost(['--port', String(port), '--data', dataDir]);

      expect(output).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(output).toContain('--port');
      expect(code).toBe(1);
    } finally {
      blocker.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
