// Provider health for a process, shared by the fleet: the gate every fallback adapter asks
// before a provider and tells after each attempt. The gate answers from this process's view
// (synchronously, on the request's path): the fleet's state last read from Redis with this
// process's outcomes not yet written on top. A background sync writes those outcomes
// (failures at once, successes with the next tick), reads the fleet's states and claims the
// half-open probe. Without Redis (none given, or away) the view is this process's alone, and
// the outcomes kept meanwhile are written when it returns.
import { randomUUID } from 'node:crypto';
import type { ProviderAttempt } from '../../contracts/providers';
import type { FallbackGate } from '../fallback';
import type { HealthCheck } from '../health-check';
import { redisCacheClient } from '../cache/redis';
import {
  applyOutcome,
  closedState,
  DEFAULT_HEALTH_POLICY,
  outcomeOf,
  unhealthyReason,
  viewOf,
  type BreakerState,
  type HealthPolicy,
  type HealthView,
  type Outcome,
} from './policy';
import { RedisHealthStore, type StoredState } from './redis-store';
import { transitionOf, type HealthObserver, type HealthTransition } from './transitions';

/** Outcomes kept per provider while they cannot be written (Redis away). */
const MAX_PENDING = 1_000;
/** Compare-and-set rounds before an outcome waits for the next tick. */
const CAS_ROUNDS = 5;

export interface ProviderHealthOptions {
  policy?: HealthPolicy;
  /** The fleet's states; without one, the view is this process's own. */
  store?: RedisHealthStore;
  /** How often the fleet's states are read (and outcomes written): default 250 ms. */
  refreshMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Called by close() (the Redis client this instance owns). */
  onClose?: () => void;
  /** Told of the moves this process wrote to the fleet's state and of its chains' fallbacks. */
  observer?: HealthObserver;
}

interface Probe {
  /** The open period it probes (its end). */
  until: number;
  expires: number;
  used: boolean;
  reported: boolean;
}

interface Entry {
  shared: StoredState;
  pending: Outcome[];
  view: BreakerState;
  probe?: Probe;
  /** The closed state a provider starts from before any is recorded. */
  firstSeen: number;
}

/** A provider the health checker asks on a timer (`family:provider`). */
export interface WatchedProvider {
  provider: string;
  check: HealthCheck;
  /** The bound of one of its requests in its chain, if the chain sets one. */
  timeoutMs?: number;
}

export class ProviderHealth implements FallbackGate {
  private readonly entries = new Map<string, Entry>();
  private readonly watched = new Map<string, WatchedProvider>();
  private readonly policy: HealthPolicy;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly id = randomUUID();
  private readonly timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private kicked = false;
  private away = false;
  private observer?: HealthObserver;

  constructor(private readonly opts: ProviderHealthOptions = {}) {
    this.policy = opts.policy ?? DEFAULT_HEALTH_POLICY;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.observer = opts.observer;
    if (opts.store) {
      this.timer = setInterval(() => void this.sync(), opts.refreshMs ?? 250);
      this.timer.unref();
    }
  }

  /**
   * The gate of one family's chain: its providers are kept as `family:provider`, since names
   * repeat across families (a `local` TTS engine and a `local` LLM are not one provider).
   */
  forFamily(family: string): FallbackGate {
    return {
      skipReason: (provider) => this.skipReason(`${family}:${provider}`),
      record: (attempt) => this.record({ ...attempt, provider: `${family}:${attempt.provider}` }),
      fellBack: (attempts, servedBy) =>
        this.observer?.fellBack({
          family,
          attempts: attempts.map((a) => ({ ...a, provider: `${family}:${a.provider}` })),
          ...(servedBy !== undefined && { servedBy: `${family}:${servedBy}` }),
          at: this.now(),
        }),
      watch: (provider, check, timeoutMs) => this.watch(`${family}:${provider}`, check, timeoutMs),
    };
  }

  /** Registers a provider's health check (the first registration of a provider holds). */
  watch(provider: string, check: HealthCheck, timeoutMs?: number): void {
    if (this.watched.has(provider)) return;
    this.watched.set(provider, { provider, check, ...(timeoutMs !== undefined && { timeoutMs }) });
  }

  /** The providers whose chains registered a health check. */
  get checkable(): WatchedProvider[] {
    return [...this.watched.values()];
  }

  /** The fleet's store when there is one: the health checker leases its checks there. */
  get fleet(): RedisHealthStore | undefined {
    return this.opts.store;
  }

  /** Set once the process's event bus exists (it is itself gated by this health). */
  observe(observer: HealthObserver): void {
    this.observer = observer;
  }

  skipReason(provider: string): string | undefined {
    const e = this.entry(provider);
    const now = this.now();
    const view = viewOf(e.view, now);
    if (view === 'closed') return undefined;
    if (view === 'open') return unhealthyReason(e.view);
    const until = e.view.until!;
    const probe = e.probe?.until === until && now < e.probe.expires ? e.probe : undefined;
    if (probe && !probe.used) {
      probe.used = true;
      return undefined;
    }
    if (!probe && (!this.opts.store || this.away)) {
      // No fleet to agree with: this process sends its own probe.
      e.probe = { until, expires: now + this.policy.probeMs, used: true, reported: false };
      return undefined;
    }
    if (!probe) this.kick(); // claim the probe now rather than at the next tick
    return `${unhealthyReason(e.view)}; another request is probing`;
  }

  /** Told after every attempt of a provider that was asked. */
  record(attempt: ProviderAttempt): void {
    const now = this.now();
    const o = outcomeOf(attempt, now);
    if (!o) return;
    const e = this.entry(attempt.provider);
    const p = e.probe;
    if (p?.used && !p.reported && e.view.state === 'open' && p.until === e.view.until) {
      o.probe = true;
      p.reported = true;
    }
    e.pending.push(o);
    if (e.pending.length > MAX_PENDING) e.pending.splice(0, e.pending.length - MAX_PENDING);
    e.view = applyOutcome(e.view, o, this.policy);
    if (!o.ok || o.probe) this.kick();
  }

  /** This process's view of a provider. */
  state(provider: string): { view: HealthView; state: BreakerState } {
    const e = this.entry(provider);
    return { view: viewOf(e.view, this.now()), state: e.view };
  }

  /** Whether the fleet's states are unreachable now (the view is this process's own). */
  get redisAway(): boolean {
    return this.away;
  }

  /** Writes the outcomes kept, reads the fleet's states and claims due probes. */
  sync(): Promise<void> {
    if (!this.opts.store) return Promise.resolve();
    this.syncing ??= this.syncOnce(this.opts.store).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    this.opts.onClose?.();
  }

  private kick(): void {
    if (!this.opts.store || this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      void this.sync();
    });
  }

  private async syncOnce(store: RedisHealthStore): Promise<void> {
    try {
      for (const [provider, e] of this.entries) {
        if (e.pending.length) await this.flush(store, provider, e);
      }
      const states = await store.read([...this.entries.keys()]);
      for (const [provider, shared] of states) {
        const e = this.entries.get(provider)!;
        e.shared = shared;
        e.view = this.fold(e);
      }
      await this.claimProbes(store);
      if (this.away) {
        this.away = false;
        this.log('provider health: Redis is back; the fleet view is shared again');
      }
    } catch (err) {
      if (!this.away) {
        this.away = true;
        this.log(
          `provider health: Redis unavailable (${err instanceof Error ? err.message : String(err)}); ` +
            'this process keeps its own view until it returns',
        );
      }
    }
  }

  /** This process's outcomes onto the fleet's state, retried while another process wrote. */
  private async flush(store: RedisHealthStore, provider: string, e: Entry): Promise<void> {
    const batch = e.pending.slice();
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const base = e.shared.state ?? closedState(e.firstSeen);
      const next = batch.reduce((s, o) => applyOutcome(s, o, this.policy), base);
      const { written, now } = await store.compareAndSet(provider, e.shared.raw, next);
      e.shared = now;
      if (written) {
        e.pending.splice(0, batch.length);
        await this.moved(store, provider, base, next);
        break;
      }
    }
    e.view = this.fold(e);
  }

  private async claimProbes(store: RedisHealthStore): Promise<void> {
    const now = this.now();
    for (const [provider, e] of this.entries) {
      if (viewOf(e.view, now) !== 'half_open') continue;
      const until = e.view.until!;
      if (e.probe?.until === until && now < e.probe.expires) continue;
      if (await store.claimProbe(provider, until, this.id, this.policy.probeMs)) {
        e.probe = { until, expires: now + this.policy.probeMs, used: false, reported: false };
        // The first claim of an open period is its move to half-open (SET NX: one winner).
        if (await store.firstClaim(provider, until)) {
          await this.announce(store, { provider, from: 'open', to: 'half_open', at: now, state: e.view }); // prettier-ignore
        }
      }
    }
  }

  /** The move this process's write made, told once for the fleet. */
  private async moved(
    store: RedisHealthStore,
    provider: string,
    before: BreakerState,
    after: BreakerState,
  ): Promise<void> {
    const at = this.now();
    const move = transitionOf(before, after, at);
    if (move) await this.announce(store, { provider, ...move, at, state: after });
  }

  private async announce(store: RedisHealthStore, t: HealthTransition): Promise<void> {
    this.log(`provider health: ${t.provider} ${t.from} → ${t.to}`);
    this.observer?.transition(t);
    await store.recordTransition(t);
  }

  private fold(e: Entry): BreakerState {
    const base = e.shared.state ?? closedState(e.firstSeen);
    return e.pending.reduce((s, o) => applyOutcome(s, o, this.policy), base);
  }

  private entry(provider: string): Entry {
    let e = this.entries.get(provider);
    if (!e) {
      const at = this.now();
      e = { shared: { raw: '' }, pending: [], view: closedState(at), firstSeen: at };
      this.entries.set(provider, e);
    }
    return e;
  }
}

/** The process's provider health on the fleet's Redis (REDIS_URL), failing fast when away. */
export function sharedProviderHealth(
  redisUrl: string,
  opts: Omit<ProviderHealthOptions, 'store' | 'onClose'> = {},
): ProviderHealth {
  const redis = redisCacheClient(redisUrl);
  return new ProviderHealth({
    ...opts,
    store: new RedisHealthStore(redis),
    onClose: () => redis.disconnect(),
  });
}
