import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { PanelBridge } from '../bridge.js';
import type { Translate } from './messages.js';

export interface PanelContextValue {
  bridge: PanelBridge;
  t: Translate;
  /** BCP 47 tag of the language shown, for dates and numbers. */
  locale: string;
  /** Shows a message in the page's live status region. */
  notify(message: string): void;
  /** Bumped after every change the plugin reports; views refetch when it changes. */
  version: number;
}

export const PanelContext = createContext<PanelContextValue | undefined>(undefined);

export function usePanel(): PanelContextValue {
  const value = useContext(PanelContext);

  if (value === undefined) {
    throw new Error('usePanel: no PanelContext provider above this component');
  }

  return value;
}
