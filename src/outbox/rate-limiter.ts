/** Token bucket per key: `burst` events at once, refilled at `perMinute` events a minute. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly burst: number;
  private readonly perMinute: number;
  private readonly now: () => number;

  constructor(options: { burst: number; perMinute: number; now?: () => number }) {
    this.burst = options.burst;
    this.perMinute = options.perMinute;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `key`; returns false when the key is over its rate. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    const refill = ((now - bucket.updatedAt) / 60_000) * this.perMinute;
    bucket.tokens = Math.min(this.burst, bucket.tokens + refill);
    bucket.updatedAt = now;

    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      return false;
    }

    bucket.tokens -= 1;

    if (bucket.tokens >= this.burst - 1e-9) {
      this.buckets.delete(key);
    } else {
      this.buckets.set(key, bucket);
    }

    return true;
  }
}
