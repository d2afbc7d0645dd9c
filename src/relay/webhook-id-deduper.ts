/** Default number of ids kept: about 100 bytes each, so roughly 10 MB at the cap. */
export const DEFAULT_MAX_WEBHOOK_IDS = 100_000;

/**
 * Remembers the `webhook-id` values already processed, so that a retried or replayed callback
 * is answered 2xx again but counted once. It forgets the oldest id past `maxIds`. A relay that
 * restarts or runs several processes needs the same check in its database, keeping each id at
 * least as long as the sender retries (`retry.maxAgeHours`, 72 hours by default) plus any
 * replay window.
 */
export class WebhookIdDeduper {
  readonly #seen = new Set<string>();
  readonly #maxIds: number;

  constructor(options: { maxIds?: number } = {}) {
    this.#maxIds = options.maxIds ?? DEFAULT_MAX_WEBHOOK_IDS;

    if (!Number.isInteger(this.#maxIds) || this.#maxIds < 1) {
      throw new RangeError(`maxIds: expected a positive integer, received ${this.#maxIds}`);
    }
  }

  has(webhookId: string): boolean {
    return this.#seen.has(webhookId);
  }

  /** Records an id; returns false when it was already recorded. */
  remember(webhookId: string): boolean {
    if (this.#seen.has(webhookId)) {
      return false;
    }

    this.#seen.add(webhookId);

    // A Set iterates in insertion order, so its first value is the oldest id.
    if (this.#seen.size > this.#maxIds) {
      const oldest = this.#seen.values().next().value;

      if (oldest !== undefined) {
        this.#seen.delete(oldest);
      }
    }

    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
