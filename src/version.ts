/**
 * This plugin's version, sent as `client.plugin_version` and in the User-Agent header. Node
 * cannot read package.json at build time without a bundler step, so the value is a constant
 * and test/manifest.test.ts fails when it differs from package.json or plugin.manifest.json.
 */
export const PLUGIN_VERSION = '0.1.0';

/** Version formats that Lime's plugin installer accepts: `x.y`, `x.y.z` and `x.y.z-suffix`. */
export const PLUGIN_VERSION_PATTERN = /^\d+\.\d+(?:\.\d+(?:-[0-9A-Za-z.-]+)?)?$/;
