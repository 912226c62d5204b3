// Publishes a process's own events (health moves, fallback summaries) off every caller's
// path: `enqueue` returns at once, a single drain loop hands batches to the bus (which keeps
// retrying while Kafka is briefly away, up to its deadline) and, past that, keeps the batch
// and tries again after a pause. Each event is validated when queued, so one that breaks its
// schema is dropped then and never holds up the others. Ids are deterministic, so a batch
// repeated after an unknown outcome is dropped by consumers. A bounded queue: in a long
// outage the oldest are dropped, and the log says how many.
import type { EventDraft } from '../../contracts/events';
import { EventCodec } from '../events/codec';
import type { EventBus } from '../events/port';
import { pause } from '../pause';

const MAX_QUEUED = 1_000;
const MAX_BATCH = 100;

export interface BackgroundPublisherOptions {
  /** Pause after a publish that failed for good, before the same batch goes again. */
  retryMs?: number;
  /** Applied to every draft before it leaves (the worker passes free-text redaction). */
  prepare?: (drafts: EventDraft[]) => EventDraft[];
  log?: (line: string) => void;
}

export class BackgroundPublisher {
  private readonly queue: EventDraft[] = [];
  private draining?: Promise<void>;
  private dropped = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private readonly codec = new EventCodec();

  constructor(
    private readonly bus: EventBus,
    private readonly opts: BackgroundPublisherOptions = {},
  ) {}

  /** Queues the event (prepared and validated now: an invalid one is dropped and logged). */
  enqueue(draft: EventDraft): void {
    if (this.closed) return;
    const [prepared] = this.opts.prepare ? this.opts.prepare([draft]) : [draft];
    try {
      this.codec.build(prepared!);
    } catch (err) {
      this.opts.log?.(`events: dropped an invalid ${draft.type} event: ${(err as Error).message}`);
      return;
    }
    this.queue.push(prepared!);
    if (this.queue.length > MAX_QUEUED) {
      this.dropped += this.queue.length - MAX_QUEUED;
      this.queue.splice(0, this.queue.length - MAX_QUEUED);
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves once everything enqueued so far was published (or the publisher closed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops; what could not be published by now is given up. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.closed) {
      const batch = this.queue.slice(0, MAX_BATCH);
      try {
        await this.bus.publish(batch);
        this.queue.splice(0, batch.length);
      } catch (err) {
        this.opts.log?.(
          `events: ${batch.length} health/fallback event(s) not published yet ` +
            `(${err instanceof Error ? err.message : String(err)}); retrying`,
        );
        await pause(this.opts.retryMs ?? 5_000, this.stop.signal);
      }
      if (this.dropped) {
        this.opts.log?.(`events: ${this.dropped} health/fallback event(s) dropped (queue full)`);
        this.dropped = 0;
      }
    }
  }
}
