// The network floor of a burst: the same bodies posted with got over one keep-alive agent, one
// request at a time, as the plugin sends to one relay.
import { promises as fs } from 'node:fs';
import https from 'node:https';
import got from 'got';
import { readInput, reportResult } from '../child-process.js';

interface Input {
  url: string;
  ca: string;
  bodiesFile: string;
}

const input = readInput<Input>();
const bodies = JSON.parse(await fs.readFile(input.bodiesFile, 'utf8')) as string[];
const agent = new https.Agent({ keepAlive: true, ca: [input.ca] });
const client = got.extend({
  method: 'POST',
  agent: { https: agent },
  retry: { limit: 0 },
  followRedirect: false,
  throwHttpErrors: false,
  headers: { 'content-type': 'application/json' },
});
let delivered = 0;
const started = performance.now();

for (const body of bodies) {
  const response = await client(input.url, { body });

  if (response.statusCode >= 200 && response.statusCode < 300) {
    delivered += 1;
  }
}

const elapsedMs = performance.now() - started;
agent.destroy();
reportResult({ elapsedMs, delivered });
