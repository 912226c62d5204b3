// The event bus as a fallback chain. Publishing goes to the first healthy link only: a
// publish that failed may have landed there, and consumers read one bus. Subscriptions are
// opened on the first healthy link too, so publishers and consumers meet on one bus. An
// invalid event is the caller's bug, found before any broker is asked: it passes as it is.
import type { AnyBusEvent, EventDraft } from '../../contracts/events';
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import {
  EventValidationError,
  type BatchSubscribeOptions,
  type EventBus,
  type EventSubscription,
  type SubscribeOptions,
} from './port';

export class FallbackEventBus implements EventBus {
  readonly name: string;
  private readonly runner: FallbackRunner<EventBus>;

  constructor(
    private readonly links: FallbackLink<EventBus>[],
    gate?: FallbackGate,
  ) {
    this.runner = new FallbackRunner('events', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  publish(drafts: EventDraft[]): Promise<AnyBusEvent[]> {
    return this.atFirst((bus) => bus.publish(drafts));
  }

  subscribe(opts: SubscribeOptions): Promise<EventSubscription> {
    return this.atFirst((bus) => bus.subscribe(opts));
  }

  subscribeBatches(opts: BatchSubscribeOptions): Promise<EventSubscription> {
    return this.atFirst((bus) => bus.subscribeBatches(opts));
  }

  async close(): Promise<void> {
    await Promise.all(this.links.flatMap((l) => (l.port ? [l.port.close()] : [])));
  }

  private async atFirst<T>(call: (bus: EventBus) => Promise<T>): Promise<T> {
    const isAnswer = (err: unknown) => err instanceof EventValidationError;
    return (await this.runner.run(call, { firstOnly: true, isAnswer })).value;
  }
}
