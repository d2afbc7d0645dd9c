/**
 * `ref` of the test callback the debug panel sends, so that a relay can tell it from a user's
 * outcome and leave it out of its statistics. Its `key_prefix` is `limetes`.
 */
export const TEST_EVENT_REF = 'lime-test-event';

/** Stand-in key of a test callback; only its prefix, `limetes`, is sent. */
export const TEST_EVENT_KEY = 'limetest-not-a-real-key';
