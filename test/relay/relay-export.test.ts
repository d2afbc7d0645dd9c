import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asCallbackRequest, collectCallbacks, TEST_SECRET } from './plugin-callbacks.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('lime-connect-webhook/relay', () => {
  it('is built where package.json exports it', () => {
    expect(existsSync(path.join(root, 'dist', 'relay', 'index.js'))).toBe(true);
  });

  it('verifies and counts a callback from the built kit', async () => {
    // Resolved through the package's own `exports`, as a relay's code imports it.
    const kit = await import('lime-connect-webhook/relay');
    const [request] = await collectCallbacks([
      { hook: 'connect:confirmed', relay: 'acme', key: 'sk-export-0123456789', ref: 'docs' },
    ]);
    const receiver = new kit.CallbackReceiver({ secret: TEST_SECRET });

    expect(receiver.receive(asCallbackRequest(request!)).kind).toBe('accepted');
    expect(receiver.tally.summary().relays[0]?.refs[0]).toMatchObject({ ref: 'docs', success: 1 });
  });
});
