// Slows password guessing: after `maxFailures` wrong passwords for one name from one address
// within `windowMs`, that pair is refused (without a hash check) until the window has passed.
// Per name and address, so a stranger cannot lock a user out from elsewhere.
export class SignInThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
    /** Pairs remembered at most (the oldest go first). */
    private readonly capacity = 10_000,
  ) {}

  blocked(name: string, address: string): boolean {
    const entry = this.current(`${name}\u0000${address}`);
    return entry !== undefined && entry.count >= this.maxFailures;
  }

  failed(name: string, address: string): void {
    const key = `${name}\u0000${address}`;
    const entry = this.current(key) ?? { count: 0, since: this.now() };
    entry.count++;
    this.failures.delete(key);
    if (this.failures.size >= this.capacity) this.failures.delete(this.failures.keys().next().value!); // prettier-ignore
    this.failures.set(key, entry);
  }

  succeeded(name: string, address: string): void {
    this.failures.delete(`${name}\u0000${address}`);
  }

  private current(key: string): { count: number; since: number } | undefined {
    const entry = this.failures.get(key);
    if (entry && this.now() - entry.since > this.windowMs) {
      this.failures.delete(key);
      return undefined;
    }
    return entry;
  }
}
