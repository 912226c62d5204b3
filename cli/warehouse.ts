// `switchboard warehouse load [--once]`: the warehouse loader in the foreground. With
// --once it loads what is on the event topics now and exits (tests, `report`).
import type { Command } from 'commander';
import { EVENT_TYPES } from '../providers/events/catalog';
import { kafkaBacklog } from '../analytics/kafka-backlog';
import { type DrainStats, drainEvents } from '../analytics/load-events';
import {
  type LoaderConfig,
  loadLoaderConfig,
  loaderBus,
  openWarehouse,
} from '../analytics/loader-config';
import type { Warehouse } from '../providers/warehouse/port';
import { localEnv } from './dev-env';

const log = (line: string) => console.log(`[warehouse] ${line}`);

/** Loads every event waiting on the topics into `warehouse`, then returns. */
export async function drainIntoWarehouse(
  config: LoaderConfig,
  warehouse: Warehouse,
): Promise<DrainStats> {
  const bus = loaderBus(config);
  try {
    await bus.ensureTopics();
    const backlog = await kafkaBacklog(bus, config.WAREHOUSE_GROUP, EVENT_TYPES);
    try {
      return await drainEvents({
        bus,
        warehouse,
        backlog,
        groupId: config.WAREHOUSE_GROUP,
        log,
      });
    } finally {
      await backlog.close();
    }
  } finally {
    await bus.close();
  }
}

export const formatLoad = (s: DrainStats): string =>
  `${s.handled} event(s) in ${(s.loadMs / 1000).toFixed(1)} s: ${s.inserted} new, ` +
  `${s.duplicates} already loaded, ${s.invalid} invalid (dead-lettered)`;

export function registerWarehouseCommand(program: Command): void {
  const wh = program.command('warehouse').description('the analytics warehouse');
  wh.command('load')
    .description(
      'load events from Kafka into the warehouse (consumer group switchboard-warehouse); ' +
        'runs until Ctrl-C, or with --once until the topics are drained',
    )
    .option('--once', 'load what is on the topics now, then exit')
    .action(async (o: { once?: boolean }) => {
      const config = loadLoaderConfig(localEnv());
      if (!o.once) {
        await import('../workers/warehouse-loader');
        return;
      }
      const warehouse = openWarehouse(config, { lockWaitMs: 30_000 });
      try {
        log(formatLoad(await drainIntoWarehouse(config, warehouse)));
        log(`${await warehouse.count()} event(s) in the ${warehouse.name} warehouse`);
      } finally {
        await warehouse.close();
      }
    });
}
