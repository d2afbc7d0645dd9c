import type { SecretCodec } from '../settings/secret-codec.js';
import type { ElectronApi } from './electron-api.js';

/** Prefix of a secret encrypted by Electron's safeStorage, followed by base64. */
export const SAFE_STORAGE_PREFIX = 'safeStorage:v1:';

/**
 * Encrypts signing secrets at rest with Electron's safeStorage (the macOS Keychain, Windows
 * DPAPI, or the Linux secret store). Returns undefined when safeStorage cannot encrypt, in which
 * case secrets stay plain text in the owner-only settings file.
 */
export function createSafeStorageCodec(
  electron: Pick<ElectronApi, 'safeStorage'>,
): SecretCodec | undefined {
  const { safeStorage } = electron;

  if (!safeStorage.isEncryptionAvailable()) {
    return undefined;
  }

  return {
    encode: (secret) =>
      `${SAFE_STORAGE_PREFIX}${safeStorage.encryptString(secret).toString('base64')}`,
    decode: (stored) =>
      stored.startsWith(SAFE_STORAGE_PREFIX)
        ? safeStorage.decryptString(Buffer.from(stored.slice(SAFE_STORAGE_PREFIX.length), 'base64'))
        : stored,
  };
}
