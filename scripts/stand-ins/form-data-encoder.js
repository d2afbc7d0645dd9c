// Stand-in for `form-data-encoder`. got asks `isFormData` about every request body; the plugin
// sends a JSON string, never FormData, so the answer is always false and got then rejects a
// FormData body as an unsupported body type. See scripts/build.mjs.
export function isFormData() {
  return false;
}

export class FormDataEncoder {
  constructor() {
    throw new Error(
      'FormData bodies are not available in this bundle: scripts/build.mjs replaces form-data-encoder with a stand-in',
    );
  }
}
