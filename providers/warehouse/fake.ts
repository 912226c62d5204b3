// The fake Warehouse, in process memory: events kept once per id, for tests of loaders and
// chains without a database; `failures` makes it fail on demand.
import type { AnyBusEvent, EventType } from '../../contracts/events';
import { FakeFailures } from '../fake-failures';
import type { Warehouse, WarehouseLoadResult } from './port';

export class FakeWarehouse implements Warehouse {
  readonly name = 'fake-warehouse';
  readonly failures = new FakeFailures(this.name);
  readonly events = new Map<string, AnyBusEvent>();

  async load(events: AnyBusEvent[]): Promise<WarehouseLoadResult> {
    await this.failures.check();
    let inserted = 0;
    for (const e of events)
      if (!this.events.has(e.id)) {
        this.events.set(e.id, e);
        inserted++;
      }
    return { received: events.length, inserted };
  }

  async count(type?: EventType): Promise<number> {
    await this.failures.check();
    return [...this.events.values()].filter((e) => !type || e.type === type).length;
  }

  async close(): Promise<void> {}
}
