// Stand-in for `ajv/dist/2020.js` and `ajv-formats`, which conf loads only when a `schema`,
// `rootSchema` or `ajvOptions` option is given. The plugin validates settings with zod and passes
// none of them. See scripts/build.mjs.
function unavailable() {
  throw new Error(
    "conf's `schema` option is not available in this bundle: scripts/build.mjs replaces ajv with a stand-in",
  );
}

export class Ajv2020 {
  constructor() {
    unavailable();
  }
}

export default { default: unavailable };
