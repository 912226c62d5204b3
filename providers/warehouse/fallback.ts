// The warehouse as a fallback chain: a load goes to the first healthy link only (a load
// that failed may have committed there, and reports read one warehouse); a count goes down
// the links until one answers.
import type { AnyBusEvent, EventType } from '../../contracts/events';
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { Warehouse, WarehouseLoadResult } from './port';

export class FallbackWarehouse implements Warehouse {
  readonly name: string;
  private readonly runner: FallbackRunner<Warehouse>;

  constructor(
    private readonly links: FallbackLink<Warehouse>[],
    gate?: FallbackGate,
  ) {
    this.runner = new FallbackRunner('warehouse', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  async load(events: AnyBusEvent[]): Promise<WarehouseLoadResult> {
    return (await this.runner.run((w) => w.load(events), { firstOnly: true })).value;
  }

  async count(type?: EventType): Promise<number> {
    return (await this.runner.run((w) => w.count(type))).value;
  }

  async close(): Promise<void> {
    await Promise.all(this.links.flatMap((l) => (l.port ? [l.port.close()] : [])));
  }
}
