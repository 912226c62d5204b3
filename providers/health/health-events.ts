// The process's health moves and its chains' fallbacks as events (provider.health_changed,
// provider.fallback_summary): each move at once, fallbacks summed per failed provider and sent
// at most once per interval with the count, so an outage does not flood Kafka.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { EventDraft } from '../../contracts/events';
import { parseEnvConfig } from '../env-config';
import type { BackgroundPublisher } from './background-publisher';
import { windowCounts, type HealthPolicy } from './policy';
import type { FallbackNote, HealthObserver, HealthTransition } from './transitions';

const FallbackEventsEnv = z.object({
  PROVIDER_FALLBACK_EVENTS_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
});

export function fallbackEventsIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return parseEnvConfig(FallbackEventsEnv, env, 'fallback events')
    .PROVIDER_FALLBACK_EVENTS_INTERVAL_MS;
}

interface Tally {
  family: string;
  count: number;
  unserved: number;
  kind: string;
  servedBy?: string;
  firstAt: number;
  lastAt: number;
}

export interface HealthEventsOptions {
  policy: HealthPolicy;
  publisher: BackgroundPublisher;
  /** Fallback summaries: at most one per provider per this many ms (default 10 s). */
  intervalMs?: number;
}

export class HealthEvents implements HealthObserver {
  private readonly tallies = new Map<string, Tally>();
  /** Interval number per provider: the summary's seq. */
  private readonly seqs = new Map<string, number>();
  private readonly producer = `fallbacks:${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: HealthEventsOptions) {
    this.timer = setInterval(() => this.flushFallbacks(), opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  transition(t: HealthTransition): void {
    const { requests, failures } = windowCounts(t.state, this.opts.policy, t.at);
    const lastError = t.state.lastError;
    const kind = lastError?.split(':', 1)[0];
    this.opts.publisher.enqueue({
      type: 'provider.health_changed',
      call_id: t.provider,
      workflow_id: `provider-health:${t.provider}`,
      seq: t.at,
      occurred_at: new Date(t.at).toISOString(),
      data: {
        provider: t.provider,
        family: t.provider.split(':', 1)[0]!,
        from: t.from,
        to: t.to,
        since: new Date(t.to === 'closed' ? t.at : t.state.since).toISOString(),
        ...(t.to !== 'closed' && t.state.reason && { reason: t.state.reason }),
        failures,
        requests,
        ...(kind && { last_error_kind: kind }),
        ...(lastError && { last_error: lastError.slice(0, 500) }),
      },
    });
  }

  fellBack(note: FallbackNote): void {
    const unserved = note.servedBy === undefined ? 1 : 0;
    for (const a of note.attempts) {
      const t = this.tallies.get(a.provider) ?? {
        family: note.family,
        count: 0,
        unserved: 0,
        kind: '',
        firstAt: note.at,
        lastAt: note.at,
      };
      t.count++;
      t.unserved += unserved;
      t.kind = a.kind ?? 'failed';
      t.lastAt = note.at;
      // The last request's server (none: it is removed).
      if (note.servedBy === undefined) delete t.servedBy;
      else t.servedBy = note.servedBy;
      this.tallies.set(a.provider, t);
    }
  }

  /** Sends the interval's summaries (the timer does; tests and close call it too). */
  flushFallbacks(): void {
    for (const [provider, t] of this.tallies)
      this.opts.publisher.enqueue(this.summary(provider, t));
    this.tallies.clear();
  }

  close(): void {
    clearInterval(this.timer);
    this.flushFallbacks();
  }

  private summary(provider: string, t: Tally): EventDraft {
    const seq = (this.seqs.get(provider) ?? 0) + 1;
    this.seqs.set(provider, seq);
    return {
      type: 'provider.fallback_summary',
      call_id: provider,
      workflow_id: this.producer,
      seq,
      occurred_at: new Date(t.lastAt).toISOString(),
      data: {
        family: t.family,
        failed_provider: provider,
        count: t.count,
        kind: t.kind,
        ...(t.servedBy !== undefined && { served_by: t.servedBy }),
        unserved: t.unserved,
        first_at: new Date(t.firstAt).toISOString(),
        last_at: new Date(t.lastAt).toISOString(),
      },
    };
  }
}
