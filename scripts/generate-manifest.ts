/**
 * Writes plugin.manifest.json, the file Lime's plugin installer reads. The config_schema is the
 * JSON Schema of the settings as the user enters them (zod's input side, where fields with
 * defaults are optional), so the plugin centre and the zod schema cannot drift apart.
 *
 * Run with `npm run manifest` after changing src/settings/settings-schema.ts or the version.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SettingsSchema } from '../src/settings/settings-schema.js';
import { PLUGIN_VERSION } from '../src/version.js';

export const MANIFEST_PATH = fileURLToPath(new URL('../plugin.manifest.json', import.meta.url));

/** Builds the manifest object. Its key order is the order written to the file. */
export function buildManifest() {
  return {
    name: 'connect-webhook',
    version: PLUGIN_VERSION,
    description:
      "Delivers Lime Connect outcomes (confirmed, cancelled, failed) to each relay's callback URL " +
      'over HTTPS from a durable outbox, with retries and Standard Webhooks signatures.',
    author: 'lime-connect-webhook developers',
    license: 'MIT',
    plugin_type: 'script',
    entry: 'dist/plugin/index.js',
    hooks: ['connect:confirmed', 'connect:cancelled', 'connect:failed'],
    min_lime_version: '0.9.0',
    config_schema: z.toJSONSchema(SettingsSchema, { io: 'input' }),
  };
}

/** Formats the manifest as written to disk: two-space JSON with a final newline. */
export function formatManifest(manifest: ReturnType<typeof buildManifest>): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MANIFEST_PATH, formatManifest(buildManifest()));
  console.log(`wrote ${MANIFEST_PATH}`);
}
