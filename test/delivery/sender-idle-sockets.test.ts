import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSender, type Sender } from '../../src/delivery/sender.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

let relay: TestRelay;
let sender: Sender;

beforeEach(async () => {
  relay = await startTestRelay();
  sender = createSender({
    allowPrivateAddresses: true,
    extraCaCertificates: [relay.ca],
    timeoutMs: 5000,
    userAgent: 'Lime/1.2.3 lime-connect-webhook/0.1.0',
  });
});

afterEach(async () => {
  sender.close();
  await relay.close();
});

const post = (eventId: string) =>
  sender.send({ url: relay.url, body: '{"event":"connect"}', eventId });

describe('releaseIdleSockets', () => {
  it('keeps the connection alive without a release', async () => {
    await post('01950000-0000-7000-8000-000000000001');
    await post('01950000-0000-7000-8000-000000000002');

    expect(relay.connectionCount).toBe(1);
  });

  it('closes the idle keep-alive connection', async () => {
    const first = await post('01950000-0000-7000-8000-000000000001');
    sender.releaseIdleSockets();
    const second = await post('01950000-0000-7000-8000-000000000002');

    expect(first.classification).toBe('delivered');
    expect(second.classification).toBe('delivered');
    expect(relay.connectionCount).toBe(2);
  });

  it('leaves an attempt in flight alone', async () => {
    let handlerCalled: (respond: () => void) => void = () => undefined;
    const responder = new Promise<() => void>((resolve) => (handlerCalled = resolve));
    relay.setHandler((_request, response) => {
      handlerCalled(() => {
        response.writeHead(200);
        response.end('{}');
      });
    });
    const pending = post('01950000-0000-7000-8000-000000000001');
    const respond = await responder;

    sender.releaseIdleSockets();
    respond();

    expect((await pending).classification).toBe('delivered');
  });
});
