import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import { afterAll, expect } from 'vitest';
import { installConnectFence, isLoopback } from './connect-fence.js';

/**
 * Test-wide network fence, loaded for every test file. `installConnectFence` stops any socket
 * (plain, TLS or HTTPS) before it connects to an address outside loopback. As a second check,
 * every client socket that Node publishes on the `net.client.socket` channel must end up
 * connected to loopback, or it is destroyed. Either kind of violation fails the file.
 */
const fence = installConnectFence(isLoopback);
const connectedOutside: string[] = [];

diagnosticsChannel.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: net.Socket }).socket;

  socket.once('connect', () => {
    const address = socket.remoteAddress;

    if (address === undefined || !isLoopback(address)) {
      connectedOutside.push(`${address ?? '?'}:${socket.remotePort ?? '?'}`);
      socket.destroy(new Error('test network fence: only loopback addresses may be contacted'));
    }
  });
});

afterAll(() => {
  expect(fence.violations, 'sockets aimed outside loopback').toEqual([]);
  expect(connectedOutside, 'sockets connected outside loopback').toEqual([]);
});
