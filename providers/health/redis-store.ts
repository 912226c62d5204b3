// The fleet's breaker states in Redis: one JSON value per provider, changed only by
// compare-and-set (the new state is computed by the pure rule in policy.ts, never by a second
// copy of it in Lua), and the half-open probe's right held by one process (SET NX PX).
import type { Redis } from 'ioredis';
import type { BreakerState } from './policy';
import type { HealthTransition } from './transitions';

const PREFIX = 'switchboard:health:';
/** A provider no process has asked about for a day is forgotten. */
const KEEP_MS = 86_400_000;
/** The fleet's last moves, newest first, for `switchboard health`. */
const TRANSITIONS = 'switchboard:health-transitions';
const KEEP_TRANSITIONS = 50;

/** One move as `switchboard health` lists it. */
export interface StoredTransition {
  provider: string;
  from: string;
  to: string;
  at: number;
  reason?: string;
  lastError?: string;
}

// Sets KEYS[1] to ARGV[2] when it still holds ARGV[1] ('' = absent); else returns what it holds.
const COMPARE_AND_SET = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return {1, ARGV[2]}
end
return {0, cur}`;

/** A state as stored: `raw` is what compare-and-set compares. */
export interface StoredState {
  raw: string;
  state?: BreakerState;
}

export class RedisHealthStore {
  constructor(private readonly redis: Redis) {}

  async read(providers: readonly string[]): Promise<Map<string, StoredState>> {
    const out = new Map<string, StoredState>();
    if (providers.length === 0) return out;
    const values = await this.redis.mget(...providers.map(key));
    providers.forEach((p, i) => out.set(p, stored(values[i] ?? '')));
    return out;
  }

  /** Writes `next` if the stored value is still `expected`; the value stored after the call. */
  async compareAndSet(
    provider: string,
    expected: string,
    next: BreakerState,
  ): Promise<{ written: boolean; now: StoredState }> {
    const [written, raw] = (await this.redis.eval(
      COMPARE_AND_SET,
      1,
      key(provider),
      expected,
      JSON.stringify(next),
      KEEP_MS,
    )) as [number, string];
    return { written: written === 1, now: stored(raw) };
  }

  /** The right to probe one open period (named by its end), for `ms`; true when granted. */
  async claimProbe(provider: string, until: number, owner: string, ms: number): Promise<boolean> {
    const got = await this.redis.set(`${key(provider)}:probe:${until}`, owner, 'PX', ms, 'NX');
    return got === 'OK';
  }

  /**
   * The right to check a provider in one interval (its slot number), for `ms`: one process
   * of the fleet checks each provider per interval; true when granted.
   */
  async claimCheck(provider: string, slot: number, owner: string, ms: number): Promise<boolean> {
    const got = await this.redis.set(`${key(provider)}:check:${slot}`, owner, 'PX', ms, 'NX');
    return got === 'OK';
  }

  /** Whether this is the first claim of the open period (its move to half-open). */
  async firstClaim(provider: string, until: number): Promise<boolean> {
    const got = await this.redis.set(
      `${key(provider)}:half-open:${until}`,
      '1',
      'PX',
      KEEP_MS,
      'NX',
    );
    return got === 'OK';
  }

  async recordTransition(t: HealthTransition): Promise<void> {
    const stored: StoredTransition = {
      provider: t.provider,
      from: t.from,
      to: t.to,
      at: t.at,
      ...(t.to === 'open' && t.state.reason !== undefined && { reason: t.state.reason }),
      ...(t.state.lastError !== undefined && { lastError: t.state.lastError }),
    };
    await this.redis
      .multi()
      .lpush(TRANSITIONS, JSON.stringify(stored))
      .ltrim(TRANSITIONS, 0, KEEP_TRANSITIONS - 1)
      .exec();
  }

  /** The fleet's last moves, newest first. */
  async transitions(limit = 10): Promise<StoredTransition[]> {
    const raw = await this.redis.lrange(TRANSITIONS, 0, limit - 1);
    return raw.map((r) => JSON.parse(r) as StoredTransition);
  }

  /** Every provider with a recorded state. */
  async all(): Promise<Map<string, BreakerState>> {
    const providers: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 200);
      cursor = next;
      for (const k of keys) {
        if (!k.includes(':probe:') && !k.includes(':half-open:') && !k.includes(':check:'))
          providers.push(k.slice(PREFIX.length));
      }
    } while (cursor !== '0');
    const out = new Map<string, BreakerState>();
    for (const [p, s] of await this.read(providers.sort())) if (s.state) out.set(p, s.state);
    return out;
  }
}

function key(provider: string): string {
  return `${PREFIX}${provider}`;
}

function stored(raw: string): StoredState {
  if (!raw) return { raw };
  try {
    return { raw, state: JSON.parse(raw) as BreakerState };
  } catch {
    return { raw }; // unreadable: treated as no state, and overwritten by the next change
  }
}
