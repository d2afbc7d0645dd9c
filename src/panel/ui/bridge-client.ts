/// <reference lib="dom" />
import type { BridgeMethod, PanelBridge } from '../bridge.js';

/** What the Electron preload script exposes to the page as `window.limePanel`. */
export interface PreloadApi {
  call(method: string, args: unknown[]): Promise<unknown>;
  onChange(listener: () => void): () => void;
}

/** State of the development host's local relay; only the development host has it. */
export interface DevState {
  relay: {
    url: string;
    mode: string;
    received: Array<{
      eventId: string;
      receivedAt: number;
      verified: boolean;
      duplicate: boolean;
      answeredWith: number | string;
      problem?: string;
    }>;
  };
}

export interface DevControls {
  state(): Promise<DevState>;
  fire(kind: 'confirmed' | 'cancelled' | 'failed'): Promise<void>;
  setRelayMode(mode: string): Promise<void>;
}

export interface ClientBridge {
  bridge: PanelBridge;
  /** Present only in the development host. */
  dev?: DevControls;
  /** Calls `listener` with false when change notifications stop, and true when they resume. */
  onConnection(listener: (connected: boolean) => void): void;
}

type Call = (method: BridgeMethod, args: unknown[]) => Promise<unknown>;

function bridgeOver(call: Call, subscribe: PanelBridge['subscribe']): PanelBridge {
  const method =
    <Name extends BridgeMethod>(name: Name) =>
    (...args: unknown[]) =>
      call(name, args);
  return {
    info: method('info'),
    listEvents: method('listEvents'),
    eventDetail: method('eventDetail'),
    retryNow: method('retryNow'),
    replay: method('replay'),
    discard: method('discard'),
    sendTestEvent: method('sendTestEvent'),
    exportLog: method('exportLog'),
    clearDelivered: method('clearDelivered'),
    resumeRelay: method('resumeRelay'),
    stats: method('stats'),
    getSettings: method('getSettings'),
    validateSettings: method('validateSettings'),
    saveSettings: method('saveSettings'),
    subscribe,
  } as PanelBridge;
}

/** Connects to the plugin: over IPC inside Lime, over HTTP in the development host. */
export function connectBridge(): ClientBridge {
  const preload = (window as unknown as { limePanel?: PreloadApi }).limePanel;

  if (preload !== undefined) {
    return {
      bridge: bridgeOver((name, args) => preload.call(name, args), preload.onChange),
      onConnection: () => undefined,
    };
  }

  return httpBridge();
}

async function postJson(url: string, value: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  });
  const answer = (await response.json()) as { result?: unknown; error?: string };

  if (!response.ok) {
    throw new Error(answer.error ?? `HTTP ${response.status}`);
  }

  return answer.result;
}

function httpBridge(): ClientBridge {
  const listeners = new Set<() => void>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  const source = new EventSource('/api/panel/changes');
  source.addEventListener('change', () => listeners.forEach((listener) => listener()));
  source.addEventListener('open', () => connectionListeners.forEach((listener) => listener(true)));
  source.addEventListener('error', () =>
    connectionListeners.forEach((listener) => listener(false)),
  );

  const subscribe = (listener: () => void) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  };

  return {
    bridge: bridgeOver((method, args) => postJson('/api/panel/call', { method, args }), subscribe),
    dev: {
      state: async () => (await postJson('/api/dev/state', {})) as DevState,
      fire: async (kind) => {
        await postJson('/api/dev/fire', { kind });
      },
      setRelayMode: async (mode) => {
        await postJson('/api/dev/relay-mode', { mode });
      },
    },
    onConnection: (listener) => connectionListeners.add(listener),
  };
}
