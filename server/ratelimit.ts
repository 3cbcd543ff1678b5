// A token bucket: `rate` tokens a second, holding at most `burst`. Time is
// passed in, so the limiter is a plain value the tests can drive.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Take one token; false when the bucket is empty (the request is over the limit). */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** At least one token (a take would succeed), without taking it. */
  ready(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Full again (an idle client): the bucket may be forgotten. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + dt * this.rate);
  }
}

/** One bucket per key (a remote address), forgetting keys whose buckets refilled. */
export class KeyedLimiter {
  private buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      // Still full of distinct keys: refuse rather than grow without bound.
      if (this.buckets.size >= this.maxKeys) return false;
      b = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(key, b);
    }
    return b.take(now);
  }

  /** Whether `take` would succeed, without taking (a key never seen has a full bucket). */
  ready(key: string, now: number): boolean {
    const b = this.buckets.get(key);
    if (b) return b.ready(now);
    return this.buckets.size < this.maxKeys || (this.prune(now), this.buckets.size < this.maxKeys);
  }

  prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.full(now)) this.buckets.delete(k);
  }
}
