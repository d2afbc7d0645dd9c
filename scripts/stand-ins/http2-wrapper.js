// Stand-in for `http2-wrapper`, which got uses only when its `http2` option is true. The plugin
// sends over HTTP/1.1 through its own https.Agent. See scripts/build.mjs.
function unavailable() {
  throw new Error(
    "got's `http2` option is not available in this bundle: scripts/build.mjs replaces http2-wrapper with a stand-in",
  );
}

export default {
  get globalAgent() {
    return unavailable();
  },
  auto: unavailable,
};
