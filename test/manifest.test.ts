import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildManifest, formatManifest, MANIFEST_PATH } from '../scripts/generate-manifest.js';
import {
  checkManifest,
  MANIFEST_HOOK_PATTERN,
  MANIFEST_NAME_PATTERN,
} from '../src/manifest/manifest-rules.js';
import { SettingsSchema } from '../src/settings/settings-schema.js';
import { PLUGIN_VERSION, PLUGIN_VERSION_PATTERN } from '../src/version.js';

interface Manifest {
  name: string;
  version: string;
  entry: string;
  hooks: string[];
  plugin_type: string;
  min_lime_version: string;
  config_schema: unknown;
  [field: string]: unknown;
}

const rootDir = fileURLToPath(new URL('..', import.meta.url));
const manifestText = readFileSync(MANIFEST_PATH, 'utf8');
const manifest = JSON.parse(manifestText) as Manifest;
const packageJson = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

interface JsonSchemaNode {
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
}

/** Lists the dotted paths of properties in a JSON Schema that lack a description. */
function undescribed(node: JsonSchemaNode, path = ''): string[] {
  const missing: string[] = [];

  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === '' ? name : `${path}.${name}`;

    if (child.description === undefined) {
      missing.push(childPath);
    }

    missing.push(...undescribed(child, childPath));
  }

  if (typeof node.additionalProperties === 'object') {
    missing.push(...undescribed(node.additionalProperties, `${path}.*`));
  }

  return missing;
}

describe('plugin.manifest.json', () => {
  it('has a name Lime installs', () => {
    expect(manifest.name).toBe('connect-webhook');
    expect(manifest.name).toMatch(MANIFEST_NAME_PATTERN);
  });

  it("passes Lime's installer rules", () => {
    expect(checkManifest(manifest)).toEqual([]);
  });

  it('has a version Lime installs', () => {
    expect(manifest.version).toMatch(PLUGIN_VERSION_PATTERN);
  });

  it('agrees with package.json and PLUGIN_VERSION', () => {
    expect(manifest.version).toBe(packageJson.version);
    expect(PLUGIN_VERSION).toBe(packageJson.version);
  });

  it('names a relative entry module', () => {
    expect(manifest.entry).toBe('dist/plugin/index.js');
    expect(manifest.entry.startsWith('/')).toBe(false);
    expect(manifest.entry.split('/')).not.toContain('..');
  });

  const entryPath = `${rootDir}${manifest.entry}`;
  // `npm test` builds before it runs the tests.
  it('entry module exists after the build', () => {
    expect(existsSync(entryPath), `${manifest.entry} is missing: run npm run build`).toBe(true);
  });

  it('declares the three Connect hooks', () => {
    expect(manifest.hooks).toEqual(['connect:confirmed', 'connect:cancelled', 'connect:failed']);

    for (const hook of manifest.hooks) {
      expect(hook).toMatch(MANIFEST_HOOK_PATTERN);
    }
  });

  it('declares a script plugin for Lime 0.9.0 and later', () => {
    expect(manifest.plugin_type).toBe('script');
    expect(manifest.min_lime_version).toBe('0.9.0');
    expect(manifest.author).toBe('lime-connect-webhook developers');
    expect(manifest.license).toBe('MIT');
    expect(typeof manifest.description).toBe('string');
  });

  it('carries the JSON Schema of the settings', () => {
    expect(manifest.config_schema).toStrictEqual(z.toJSONSchema(SettingsSchema, { io: 'input' }));
  });

  it('is the file the generator writes', () => {
    expect(manifestText).toBe(formatManifest(buildManifest()));
  });

  it('describes every setting', () => {
    expect(undescribed(manifest.config_schema as JsonSchemaNode)).toEqual([]);
  });
});
