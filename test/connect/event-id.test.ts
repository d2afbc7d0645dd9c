import { describe, expect, it } from 'vitest';
import { newEventId, UUID_V7_PATTERN } from '../../src/connect/event-id.js';

describe('newEventId', () => {
  it('returns a UUID version 7', () => {
    const id = newEventId();

    expect(id).toMatch(UUID_V7_PATTERN);
    expect(id.charAt(14)).toBe('7');
  });

  it('encodes the current time in the first 48 bits', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('sorts in creation order within one process', () => {
    const ids = Array.from({ length: 5000 }, () => newEventId());

    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
