/**
 * The plugin's entry module, named by `entry` in plugin.manifest.json. Lime imports it and
 * calls `activate(host)`.
 */
export { activate, type ConnectWebhookPlugin } from './plugin.js';
export {
  parseConnectLink,
  type ConnectLink,
  type ConnectLinkError,
} from './connect/connect-link.js';
export type { ActivatedPlugin, ConnectOutcome, HookResult, LimeHost, LimeLogger } from './host.js';
export {
  SettingsSchema,
  DEFAULT_SETTINGS,
  type Settings,
  type SettingsInput,
} from './settings/settings-schema.js';
export { CallbackPayloadSchema, type CallbackPayload } from './connect/payload-schema.js';
export { PLUGIN_VERSION } from './version.js';
