import type { ActionResult } from '../bridge.js';
import type { MessageKey, Translate } from './messages.js';

const REASON_KEYS: Record<string, MessageKey> = {
  not_retryable: 'notRetryable',
  not_replayable: 'notReplayable',
  not_found: 'notFound',
};

/** Turns a failed action's reason code into a sentence in the panel's language. */
export function describeFailure(t: Translate, result: ActionResult): string {
  if (result.message === 'unknown_relay') {
    return t('failedAction', { message: t('unknownRelay', { relay: result.relay ?? '' }) });
  }

  const key = Object.hasOwn(REASON_KEYS, result.message) ? REASON_KEYS[result.message] : undefined;
  return t('failedAction', { message: key === undefined ? result.message : t(key) });
}
