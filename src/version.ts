import packageJson from '../package.json' with { type: 'json' };

/**
 * This plugin's version, sent as `client.plugin_version` and in the User-Agent header. It is
 * read from package.json, the one place the version is set: esbuild inlines it into the bundle,
 * and scripts/generate-manifest.ts copies it into plugin.manifest.json.
 */
export const PLUGIN_VERSION: string = packageJson.version;

/** Version formats that Lime's plugin installer accepts: `x.y`, `x.y.z` and `x.y.z-suffix`. */
export const PLUGIN_VERSION_PATTERN = /^\d+\.\d+(?:\.\d+(?:-[0-9A-Za-z.-]+)?)?$/;
