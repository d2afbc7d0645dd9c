// Stand-in for `cacheable-request`, which got loads only for its `cache` option. The plugin never
// sets `cache`, so the bundle carries this file instead of the module and its keyv,
// http-cache-semantics and normalize-url dependencies. See scripts/build.mjs.
export default class CacheableRequest {
  constructor() {
    throw new Error(
      "got's `cache` option is not available in this bundle: scripts/build.mjs replaces cacheable-request with a stand-in",
    );
  }
}

export class CacheError extends Error {}
