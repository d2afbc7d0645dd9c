/** Every IPC channel between the panel window and the plugin; both sides import these names. */
export const IPC_CHANNELS = {
  /** invoke: `(method: BridgeMethod, args: unknown[])` → the bridge method's result. */
  call: 'lime-connect-webhook:panel:call',
  /** main → panel: something in the log or the settings changed; no payload. */
  changed: 'lime-connect-webhook:panel:changed',
} as const;
