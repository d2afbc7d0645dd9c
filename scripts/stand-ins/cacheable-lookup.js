// Stand-in for `cacheable-lookup`, which got constructs only for its `dnsCache` option. The
// plugin resolves through its own guarded lookup. See scripts/build.mjs.
export default class CacheableLookup {
  constructor() {
    throw new Error(
      "got's `dnsCache` option is not available in this bundle: scripts/build.mjs replaces cacheable-lookup with a stand-in",
    );
  }
}
