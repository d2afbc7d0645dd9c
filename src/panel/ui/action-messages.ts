import type { ActionResult } from '../bridge.js';
import type { MessageKey, Translate } from './messages.js';

const REASON_KEYS: Record<string, MessageKey> = {
  not_retryable: 'notRetryable',
  not_replayable: 'notReplayable',
  not_found: 'notFound',
};

/** Turns a failed action's reason code into a sentence in the panel's language. */
export function describeFailure(t: Translate, result: ActionResult): string {
  const key = REASON_KEYS[result.message];
  return t('failedAction', { message: key === undefined ? result.message : t(key) });
}
