// Stand-in for `semver`, which conf uses only for its `migrations` option. The plugin passes no
// migrations. See scripts/build.mjs.
function unavailable() {
  throw new Error(
    "conf's `migrations` option is not available in this bundle: scripts/build.mjs replaces semver with a stand-in",
  );
}

export default {
  clean: unavailable,
  eq: unavailable,
  gt: unavailable,
  lte: unavailable,
  satisfies: unavailable,
};
