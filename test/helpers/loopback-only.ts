import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import { afterAll, expect } from 'vitest';

/**
 * Test-wide network fence: every client socket this process opens must end up connected to a
 * loopback address. A socket that connects anywhere else is destroyed at once and the test
 * file fails. Node publishes each new client socket on the `net.client.socket` channel.
 */
const violations: string[] = [];

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) {
    return false;
  }

  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return plain === '::1' || (net.isIPv4(plain) && plain.startsWith('127.'));
}

diagnosticsChannel.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: net.Socket }).socket;

  socket.once('connect', () => {
    if (!isLoopback(socket.remoteAddress)) {
      violations.push(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      socket.destroy(new Error('test network fence: only loopback addresses may be contacted'));
    }
  });
});

afterAll(() => {
  expect(violations, 'sockets connected outside loopback').toEqual([]);
});
