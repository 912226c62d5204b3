// Opens an incident through the alerting chain when a provider's breaker stays open longer
// than a threshold, or when the fleet's chains fell back from it too often in a window, and
// resolves it when the provider is healthy again. Fed by the provider events
// (provider.health_changed, provider.fallback_summary) and seeded at start from the breakers
// in Redis. Every watcher keeps the whole picture; only the one holding the fleet's lease
// (SET NX PX in Redis) sends, and what was sent is kept in Redis (one incident per provider,
// dedup key `switchboard/provider/<provider>`), so a watcher taking over neither opens an
// incident twice nor forgets to resolve one.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type {
  ProviderFallbackSummaryData,
  ProviderHealthChangedData,
} from '../../contracts/events';
import { parseEnvConfig } from '../env-config';
import type { BreakerState } from '../health/policy';
import type { EventBus } from '../events/port';
import type { Alerting, Incident } from './port';
import { SerialReconciler } from './serial-reconciler';

export interface IncidentPolicy {
  /** An incident when a breaker has been open (or half-open) this long. */
  openAfterMs: number;
  /** … or when this many fallbacks from one provider happened in the window. */
  fallbacks: number;
  fallbackWindowMs: number;
}

const IncidentEnv = z.object({
  ALERTS_OPEN_AFTER_MS: z.coerce.number().int().min(0).default(60_000),
  ALERTS_FALLBACKS: z.coerce.number().int().min(1).default(100),
  ALERTS_FALLBACK_WINDOW_MS: z.coerce.number().int().min(1_000).default(300_000),
});

export function incidentPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): IncidentPolicy {
  const c = parseEnvConfig(IncidentEnv, env, 'alerts');
  return {
    openAfterMs: c.ALERTS_OPEN_AFTER_MS,
    fallbacks: c.ALERTS_FALLBACKS,
    fallbackWindowMs: c.ALERTS_FALLBACK_WINDOW_MS,
  };
}

export const dedupKeyOf = (provider: string) => `switchboard/provider/${provider}`;

/** What the watcher knows of one provider. */
interface Watched {
  /** Open or half-open since (the outage's start); undefined when closed. */
  openSince?: number;
  reason?: string;
  lastError?: string;
  /** The last close: fallbacks before it belong to the outage that ended. */
  closedAt: number;
  fallbacks: { at: number; count: number }[];
}

/** The incidents sent and not yet resolved, shared by the watchers, and the sender's lease. */
export class RedisIncidentLedger {
  private readonly key: string;
  private readonly leaseKey: string;
  private readonly id = randomUUID();

  /**
   * `prefix`: the keys' namespace (tests use their own); `table`: one ledger per kind of
   * incident (providers' `incidents`, calls' `call-incidents`), each with its own lease.
   */
  constructor(
    private readonly redis: Redis,
    prefix = 'switchboard:',
    table = 'incidents',
  ) {
    this.key = `${prefix}${table}`;
    this.leaseKey = `${prefix}${table === 'incidents' ? 'incident-watcher' : table}:lease`;
  }

  async open(): Promise<Map<string, Incident>> {
    const all = await this.redis.hgetall(this.key);
    return new Map(Object.entries(all).map(([p, v]) => [p, JSON.parse(v) as Incident]));
  }

  async opened(subject: string, incident: Incident): Promise<void> {
    await this.redis.hset(this.key, subject, JSON.stringify(incident));
  }

  async resolved(subject: string): Promise<void> {
    await this.redis.hdel(this.key, subject);
  }

  /** Takes or renews the lease for `ms`; true when this watcher holds it. */
  async lease(ms: number): Promise<boolean> {
    const held = await this.redis.eval(
      `local cur = redis.call('GET', KEYS[1])
       if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
       if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
       return 0`,
      1,
      this.leaseKey,
      this.id,
      ms,
    );
    return held === 1;
  }
}

export interface IncidentWatcherOptions {
  alerting: Alerting;
  ledger: RedisIncidentLedger;
  policy: IncidentPolicy;
  now?: () => number;
  log?: (line: string) => void;
}

export class IncidentWatcher {
  private readonly watched = new Map<string, Watched>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly reconciler = new SerialReconciler(
    () => this.reconcileOnce(),
    (line) => this.log(line),
  );

  constructor(private readonly opts: IncidentWatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
  }

  /** The breakers open now (read from Redis at start). */
  seed(states: Map<string, BreakerState>): void {
    for (const [provider, s] of states) {
      if (s.state !== 'open') continue;
      Object.assign(this.entry(provider), {
        openSince: s.since,
        ...(s.reason !== undefined && { reason: s.reason }),
        ...(s.lastError !== undefined && { lastError: s.lastError }),
      });
    }
  }

  async healthChanged(d: ProviderHealthChangedData): Promise<void> {
    const w = this.entry(d.provider);
    if (d.to === 'closed') {
      delete w.openSince;
      w.closedAt = Math.max(w.closedAt, Date.parse(d.since));
    } else {
      w.openSince ??= Date.parse(d.since);
      if (d.reason !== undefined) w.reason = d.reason;
    }
    if (d.last_error !== undefined) w.lastError = d.last_error;
    await this.reconcile();
  }

  async fallbackSummary(d: ProviderFallbackSummaryData): Promise<void> {
    this.entry(d.failed_provider).fallbacks.push({ at: Date.parse(d.last_at), count: d.count });
    await this.reconcile();
  }

  /**
   * Sends what differs between the incidents that should be open and those that are: a
   * trigger or a resolve that failed is sent again on the next call.
   */
  reconcile(): Promise<void> {
    return this.reconciler.run();
  }

  private async reconcileOnce(): Promise<void> {
    if (!(await this.opts.ledger.lease(LEASE_MS))) return;
    const open = await this.opts.ledger.open();
    const now = this.now();
    // Incidents sent before this watcher started are its to resolve too: a provider it has no
    // news of was not open in Redis at its start.
    for (const provider of open.keys()) this.entry(provider);
    for (const [provider, w] of this.watched) {
      const wanted = this.incidentFor(provider, w, now);
      const sent = open.get(provider);
      if (wanted && !sent) {
        await this.opts.alerting.trigger(wanted);
        await this.opts.ledger.opened(provider, wanted);
        this.log(`alerts: incident opened for ${provider}: ${wanted.summary}`);
      } else if (!wanted && sent && w.openSince === undefined) {
        await this.opts.alerting.resolve(sent.dedupKey);
        await this.opts.ledger.resolved(provider);
        this.log(`alerts: incident resolved for ${provider}`);
      }
    }
  }

  private incidentFor(provider: string, w: Watched, now: number): Incident | undefined {
    const windowStart = Math.max(now - this.opts.policy.fallbackWindowMs, w.closedAt);
    w.fallbacks = w.fallbacks.filter((f) => f.at > now - this.opts.policy.fallbackWindowMs);
    const fallbacks = w.fallbacks
      .filter((f) => f.at > windowStart)
      .reduce((n, f) => n + f.count, 0);
    const openMs = w.openSince === undefined ? 0 : now - w.openSince;
    const down = w.openSince !== undefined && openMs >= this.opts.policy.openAfterMs;
    const failing = fallbacks >= this.opts.policy.fallbacks;
    if (!down && !failing) return undefined;
    const minutes = Math.round(this.opts.policy.fallbackWindowMs / 60_000);
    return {
      dedupKey: dedupKeyOf(provider),
      summary: down
        ? `${provider} unhealthy for ${Math.round(openMs / 1000)} s${w.reason ? ` (${w.reason})` : ''}`
        : `${provider}: ${fallbacks} fallbacks in ${minutes} min`,
      source: provider,
      severity: down ? 'critical' : 'warning',
      startedAt: new Date(w.openSince ?? w.fallbacks[0]?.at ?? now).toISOString(),
      details: {
        provider,
        fallbacks_in_window: fallbacks,
        ...(w.openSince !== undefined && { open_since: new Date(w.openSince).toISOString() }),
        ...(w.reason !== undefined && { reason: w.reason }),
        ...(w.lastError !== undefined && { last_error: w.lastError.slice(0, 300) }),
      },
    };
  }

  private entry(provider: string): Watched {
    let w = this.watched.get(provider);
    if (!w) {
      w = { closedAt: 0, fallbacks: [] };
      this.watched.set(provider, w);
    }
    return w;
  }
}

/** How long the sending watcher's lease lasts without renewal. */
export const LEASE_MS = 15_000;

/**
 * Runs a watcher on the provider events: its own consumer group (every watcher sees every
 * event; only the lease holder sends), from the newest events on (the state before is
 * seeded from Redis), and a periodic check for breakers open too long.
 */
export async function watchProviderEvents(
  watcher: IncidentWatcher,
  bus: EventBus,
  opts: { groupId: string; checkMs?: number },
): Promise<{ close(): Promise<void> }> {
  const sub = await bus.subscribe({
    groupId: opts.groupId,
    fromBeginning: false,
    handlers: {
      'provider.health_changed': (e) => watcher.healthChanged(e.data),
      'provider.fallback_summary': (e) => watcher.fallbackSummary(e.data),
    },
  });
  const timer = setInterval(() => void watcher.reconcile(), opts.checkMs ?? 1_000);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await sub.close();
      await watcher.reconcile();
    },
  };
}
