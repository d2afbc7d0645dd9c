// A callback receiver for relay operators: an HTTPS server on 127.0.0.1 that verifies each
// lime-connect-webhook callback, dedupes it on webhook-id, counts it, and prints it.
//
//   npm run example:relay -- --secret whsec_... [--port 9443] [--cert cert.pem --key key.pem]
//
// Without --cert and --key it generates a self-signed certificate for 127.0.0.1 and writes it
// to a temporary file, whose path it prints: add that certificate to the plugin's
// network.extraCaCertificates and set network.allowPrivateAddresses to true. Without --secret
// (or RELAY_SECRET) it generates a secret and prints it. GET /stats returns the tally as JSON.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CallbackReceiver } from 'lime-connect-webhook/relay';

/** Largest body read; a callback is under 2 KB. */
const MAX_BODY_BYTES = 65_536;
const CALLBACK_PATH = '/lime/callback';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9443' },
    secret: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});

const givenSecret = values.secret ?? process.env.RELAY_SECRET;
const secret = givenSecret ?? `whsec_${randomBytes(32).toString('base64')}`;
const receiver = new CallbackReceiver({ secret });
const tls =
  values.cert !== undefined && values.key !== undefined
    ? { cert: readFileSync(values.cert, 'utf8'), key: readFileSync(values.key, 'utf8') }
    : await selfSignedCertificate();

const server = createServer(tls, (request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    respond(response, 200, receiver.tally.summary());
    return;
  }

  if (request.method !== 'POST' || request.url !== CALLBACK_PATH) {
    respond(response, 404, { error: `expected POST ${CALLBACK_PATH}` });
    return;
  }

  const chunks = [];
  let size = 0;

  request.on('data', (chunk) => {
    size += chunk.length;

    if (size <= MAX_BODY_BYTES) {
      chunks.push(chunk);
    }
  });

  request.on('end', () => {
    if (size > MAX_BODY_BYTES) {
      respond(response, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      return;
    }

    // Verification covers the raw bytes, so the body is handed over unparsed.
    const result = receiver.receive({ body: Buffer.concat(chunks), headers: request.headers });

    if (result.kind === 'rejected') {
      console.log(`rejected ${result.status} ${result.reason}: ${result.message}`);
      respond(response, result.status, { error: result.message });
      return;
    }

    // Respond at once. Slow work belongs in a queue behind this point.
    respond(response, 200, { ok: true });
    const { payload } = result;
    const totals = receiver.tally.summary();
    const error = payload.status === 'error' ? ` ${payload.error_code}` : '';
    console.log(
      `${result.kind} ${result.eventId} relay=${payload.relay_id} ref=${payload.ref ?? '-'} ` +
        `status=${payload.status}${error} key_prefix=${payload.key_prefix} | ` +
        `total=${totals.total} success=${percent(totals.successRate)} cancel=${percent(totals.cancelRate)}`,
    );
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`listening on https://127.0.0.1:${port}${CALLBACK_PATH}`);

  // Printed only when generated, so that it can be copied into the plugin's settings.
  if (givenSecret === undefined) {
    console.log(`generated secret ${secret}`);
  }
});

process.on('SIGINT', () => {
  console.log(JSON.stringify(receiver.tally.summary(), null, 2));
  process.exit(0);
});

function respond(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function percent(rate) {
  return `${(rate * 100).toFixed(1)}%`;
}

/** Generates a certificate for 127.0.0.1 with `selfsigned` and writes it where the user can copy it. */
async function selfSignedCertificate() {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const certificatePath = path.join(
    mkdtempSync(path.join(os.tmpdir(), 'relay-receiver-')),
    'cert.pem',
  );
  writeFileSync(certificatePath, pems.cert);
  console.log(`certificate ${certificatePath}`);
  return { cert: pems.cert, key: pems.private };
}
