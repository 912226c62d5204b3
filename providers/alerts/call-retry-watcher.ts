// Opens an incident for a call whose activities were retried more than a threshold
// (ALERTS_CALL_RETRIES) and resolves it when the call ends. Fed by call.activity_retried
// (the call worker's interceptor) and call.ended. A retry counts once however often its event
// is delivered: per activity, the highest attempt seen, less the first. Like the provider
// watcher, every watcher counts and only the lease holder sends; what was sent is kept in
// Redis (`switchboard:call-incidents`, dedup key `switchboard/call/<workflow id>`).
import { z } from 'zod';
import type { CallActivityRetriedData } from '../../contracts/events';
import { parseEnvConfig } from '../env-config';
import type { EventBus } from '../events/port';
import { LEASE_MS, type RedisIncidentLedger } from './incident-watcher';
import type { Alerting, Incident } from './port';
import { SerialReconciler } from './serial-reconciler';

const CallRetriesEnv = z.object({
  ALERTS_CALL_RETRIES: z.coerce.number().int().min(1).default(10),
});

/** More retries than this in one call open an incident. */
export const callRetriesFromEnv = (env: NodeJS.ProcessEnv = process.env): number =>
  parseEnvConfig(CallRetriesEnv, env, 'alerts').ALERTS_CALL_RETRIES;

const MAX_ENDED = 10_000;

export const callDedupKey = (workflowId: string) => `switchboard/call/${workflowId}`;

interface WatchedCall {
  callSid: string;
  since: string;
  /** Per activity id: its type and the retries seen (highest attempt - 1). */
  activities: Map<string, { type: string; retries: number }>;
  ended: boolean;
}

export interface CallRetryWatcherOptions {
  alerting: Alerting;
  /** A ledger of its own (table `call-incidents`). */
  ledger: RedisIncidentLedger;
  maxRetries: number;
  log?: (line: string) => void;
}

export class CallRetryWatcher {
  private readonly calls = new Map<string, WatchedCall>();
  /** Calls heard to end (the newest): a retry event arriving after the end opens nothing. */
  private readonly endedCalls = new Set<string>();
  private readonly log: (line: string) => void;
  private readonly reconciler = new SerialReconciler(
    () => this.reconcileOnce(),
    (line) => this.log(line),
  );

  constructor(private readonly opts: CallRetryWatcherOptions) {
    this.log = opts.log ?? (() => undefined);
  }

  async retried(e: {
    call_id: string;
    workflow_id: string;
    occurred_at: string;
    data: CallActivityRetriedData;
  }): Promise<void> {
    if (this.endedCalls.has(e.workflow_id)) return;
    const call = this.entry(e.workflow_id, e.call_id, e.occurred_at);
    const seen = call.activities.get(e.data.activity_id);
    const retries = Math.max(seen?.retries ?? 0, e.data.attempt - 1);
    call.activities.set(e.data.activity_id, { type: e.data.activity_type, retries });
    await this.reconcile();
  }

  async ended(e: { call_id: string; workflow_id: string; occurred_at: string }): Promise<void> {
    this.entry(e.workflow_id, e.call_id, e.occurred_at).ended = true;
    this.endedCalls.add(e.workflow_id);
    if (this.endedCalls.size > MAX_ENDED) this.endedCalls.delete(this.endedCalls.values().next().value!); // prettier-ignore
    await this.reconcile();
  }

  /** Sends what differs from the ledger; a failed send is tried again on the next call. */
  reconcile(): Promise<void> {
    return this.reconciler.run();
  }

  private async reconcileOnce(): Promise<void> {
    if (!(await this.opts.ledger.lease(LEASE_MS))) return;
    const open = await this.opts.ledger.open();
    for (const [workflowId, call] of this.calls) {
      const sent = open.get(workflowId);
      if (call.ended) {
        if (sent) {
          await this.opts.alerting.resolve(sent.dedupKey);
          await this.opts.ledger.resolved(workflowId);
          this.log(`alerts: incident resolved for call ${call.callSid} (the call ended)`);
        }
        this.calls.delete(workflowId);
        continue;
      }
      const wanted = this.incidentFor(workflowId, call);
      if (wanted && !sent) {
        await this.opts.alerting.trigger(wanted);
        await this.opts.ledger.opened(workflowId, wanted);
        this.log(`alerts: incident opened for call ${call.callSid}: ${wanted.summary}`);
      }
    }
  }

  private incidentFor(workflowId: string, call: WatchedCall): Incident | undefined {
    const byType = new Map<string, number>();
    for (const a of call.activities.values())
      byType.set(a.type, (byType.get(a.type) ?? 0) + a.retries);
    const retries = [...byType.values()].reduce((n, r) => n + r, 0);
    if (retries <= this.opts.maxRetries) return undefined;
    const worst = [...byType].sort((a, b) => b[1] - a[1]);
    return {
      dedupKey: callDedupKey(workflowId),
      summary: `call ${call.callSid}: ${retries} activity retries (${worst.map(([t, n]) => `${t} ×${n}`).join(', ')})`, // prettier-ignore
      source: workflowId,
      severity: 'warning',
      startedAt: call.since,
      details: {
        call_sid: call.callSid,
        workflow_id: workflowId,
        retries,
        threshold: this.opts.maxRetries,
        ...Object.fromEntries(worst.map(([t, n]) => [`retries_${t}`, n])),
      },
    };
  }

  private entry(workflowId: string, callSid: string, at: string): WatchedCall {
    let call = this.calls.get(workflowId);
    if (!call) {
      call = { callSid, since: at, activities: new Map(), ended: false };
      this.calls.set(workflowId, call);
    }
    return call;
  }
}

/**
 * Runs the watcher on the calls' retry and end events (its own consumer group, from the
 * newest events on), with a periodic check that sends what a failed link left unsent.
 */
export async function watchCallRetries(
  watcher: CallRetryWatcher,
  bus: EventBus,
  opts: { groupId: string; checkMs?: number },
): Promise<{ close(): Promise<void> }> {
  const sub = await bus.subscribe({
    groupId: opts.groupId,
    fromBeginning: false,
    handlers: {
      'call.activity_retried': (e) => watcher.retried(e),
      'call.ended': (e) => watcher.ended(e),
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
