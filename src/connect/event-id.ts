import { v7 as uuidV7 } from 'uuid';

/**
 * A lower-case UUID version 7: 48-bit Unix milliseconds, version nibble 7, variant bits 10.
 * Upper-case hex is rejected because the `uuid` package never produces it, so a mismatch means
 * the id came from somewhere else.
 */
export const UUID_V7_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Creates an event id. The `uuid` package keeps a counter in the random bits, so ids created
 * in one process sort in creation order even within one millisecond.
 */
export function newEventId(): string {
  return uuidV7();
}
