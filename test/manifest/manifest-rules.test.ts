import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/manifest-rules.js';

const valid = {
  name: 'connect-webhook',
  version: '0.1.0',
  entry: 'dist/plugin/index.js',
  hooks: ['connect:confirmed', 'connect:cancelled', 'connect:failed'],
};

function fieldsBroken(manifest: unknown): string[] {
  return checkManifest(manifest).map((problem) => problem.field);
}

describe('checkManifest', () => {
  it('accepts a valid manifest', () => {
    expect(checkManifest(valid)).toEqual([]);
  });

  it('accepts the three version forms', () => {
    for (const version of ['1.0', '1.0.0', '10.20.30', '1.0.0-beta', '1.0.0-rc.1']) {
      expect(fieldsBroken({ ...valid, version }), version).toEqual([]);
    }
  });

  it('rejects malformed versions', () => {
    for (const version of ['', '1', '1.0.0.0', 'v1.0.0', '1.x', '1.0-beta', 1]) {
      expect(fieldsBroken({ ...valid, version }), String(version)).toEqual(['version']);
    }
  });

  it('rejects names outside the allowed set', () => {
    for (const name of ['', 'a'.repeat(65), 'connect webhook', 'connect.webhook', 'café']) {
      expect(fieldsBroken({ ...valid, name }), name).toEqual(['name']);
    }

    expect(fieldsBroken({ ...valid, name: 'a'.repeat(64) })).toEqual([]);
  });

  it('rejects an empty entry', () => {
    expect(fieldsBroken({ ...valid, entry: '' })).toEqual(['entry']);
    expect(fieldsBroken({ ...valid, entry: '  ' })).toEqual(['entry']);
    expect(fieldsBroken({ name: 'x', version: '1.0' })).toEqual(['entry']);
  });

  it('rejects hook names with other characters', () => {
    expect(fieldsBroken({ ...valid, hooks: ['connect:confirmed', 'connect confirmed'] })).toEqual([
      'hooks[1]',
    ]);
    expect(fieldsBroken({ ...valid, hooks: ['connect-failed'] })).toEqual(['hooks[0]']);
    expect(fieldsBroken({ ...valid, hooks: 'connect:confirmed' })).toEqual(['hooks']);
  });

  it('rejects a value that is not an object', () => {
    expect(fieldsBroken([valid])).toEqual(['(manifest)']);
    expect(fieldsBroken(null)).toEqual(['(manifest)']);
  });

  it('names the rule in the message', () => {
    const [problem] = checkManifest({ ...valid, version: 'latest' });

    expect(problem?.message).toBe('expected x.y, x.y.z or x.y.z-suffix, received "latest"');
  });
});
