import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** Prefix of the one stdout line a child benchmark script writes its JSON result on. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Writes a child script's result where `runChild` reads it. */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** Reads the input the parent passed with `runChild`. */
export function readInput<T>(): T {
  const text = process.env.BENCH_INPUT;

  if (text === undefined) {
    throw new Error('BENCH_INPUT is not set; run this script through bench/run.ts');
  }

  return JSON.parse(text) as T;
}

/**
 * Runs `bench/children/<script>` in a fresh Node process (TypeScript through tsx), passes
 * `input` as JSON, and resolves with the JSON result the script reported. Rejects with the
 * child's stderr when it exits without a result or after `timeoutMs`.
 */
export function runChild<T>(
  script: string,
  input: unknown,
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<T> {
  const file = path.join(benchDir, 'children', script);
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', file];

  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, BENCH_INPUT: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);

    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((text) => text.startsWith(RESULT_PREFIX));

      if (line === undefined) {
        const status = signal === null ? `code ${code}` : `signal ${signal}`;
        reject(new Error(`${script} exited with ${status} and no result:\n${stderr.slice(-2000)}`));
        return;
      }

      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

/** Runs `node <args>` and resolves with the milliseconds from spawn to exit; rejects on failure. */
export function timeProcess(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';

    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - started;

      if (code !== 0) {
        reject(new Error(`node ${args.join(' ').slice(0, 80)} exited with ${code}: ${stderr}`));
        return;
      }

      resolve(elapsed);
    });
  });
}
