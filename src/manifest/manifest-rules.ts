import { PLUGIN_VERSION_PATTERN } from '../version.js';

/**
 * The manifest rules of Lime's plugin installer, which reads `plugin.json` from the package and
 * rejects it unless every rule holds. scripts/pack.ts checks a package against them before it
 * writes one, and test/manifest.test.ts checks plugin.manifest.json.
 */

/** `name`: letters, digits, `-` and `_`, 1 to 64 characters. */
export const MANIFEST_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Each entry of `hooks`: letters, digits, `_` and `:`, such as `connect:confirmed`. */
export const MANIFEST_HOOK_PATTERN = /^[A-Za-z0-9_:]+$/;

/** `version`: `x.y`, `x.y.z` or `x.y.z-suffix`. */
export const MANIFEST_VERSION_PATTERN = PLUGIN_VERSION_PATTERN;

/** One broken rule: the manifest field and a sentence naming the rule. */
export interface ManifestProblem {
  field: string;
  message: string;
}

/** Lists the installer rules that `manifest` breaks; an empty list means Lime accepts it. */
export function checkManifest(manifest: unknown): ManifestProblem[] {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    return [{ field: '(manifest)', message: 'expected a JSON object' }];
  }

  const fields = manifest as Record<string, unknown>;
  const problems: ManifestProblem[] = [];
  const { name, version, entry, hooks } = fields;

  if (typeof name !== 'string' || !MANIFEST_NAME_PATTERN.test(name)) {
    problems.push({
      field: 'name',
      message: `expected 1 to 64 letters, digits, "-" and "_", received ${JSON.stringify(name)}`,
    });
  }

  if (typeof version !== 'string' || !MANIFEST_VERSION_PATTERN.test(version)) {
    problems.push({
      field: 'version',
      message: `expected x.y, x.y.z or x.y.z-suffix, received ${JSON.stringify(version)}`,
    });
  }

  if (typeof entry !== 'string' || entry.trim() === '') {
    problems.push({
      field: 'entry',
      message: `expected a non-empty path, received ${JSON.stringify(entry)}`,
    });
  }

  if (hooks !== undefined && !Array.isArray(hooks)) {
    problems.push({ field: 'hooks', message: 'expected an array of hook names' });
  }

  for (const [index, hook] of (Array.isArray(hooks) ? hooks : []).entries()) {
    if (typeof hook !== 'string' || !MANIFEST_HOOK_PATTERN.test(hook)) {
      problems.push({
        field: `hooks[${index}]`,
        message: `expected letters, digits, "_" and ":", received ${JSON.stringify(hook)}`,
      });
    }
  }

  return problems;
}
