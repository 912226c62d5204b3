// Configuration of the warehouse loader from env, shared by its process entry
// (workers/warehouse-loader.ts) and the CLI (`switchboard warehouse load`, `report`).
import { z } from 'zod';
import { parseEnvConfig } from '../providers/env-config';
import type { Warehouse } from '../providers/warehouse/port';
import type { FallbackGate } from '../providers/fallback';
import { KafkaEventBus } from '../providers/events/kafka';
import { kafkaEnvFields } from '../providers/events/kafka-env';
import { DuckDbWarehouse } from '../providers/warehouse/duckdb';
import { FallbackWarehouse } from '../providers/warehouse/fallback';
import { SnowflakeWarehouse, snowflakeOptionsFromEnv } from '../providers/warehouse/snowflake';
import { WAREHOUSE_GROUP } from './load-events';

const LoaderEnv = z.object({
  /** duckdb: the local file (default); snowflake: SNOWFLAKE_* variables. */
  WAREHOUSE: z.enum(['duckdb', 'snowflake']).default('duckdb'),
  /** The DuckDB file; default .switchboard/data/warehouse.duckdb. */
  WAREHOUSE_PATH: z.string().optional(),
  WAREHOUSE_GROUP: z.string().default(WAREHOUSE_GROUP),
  /** The fleet's provider health (the loader process only). */
  REDIS_URL: z.string().default('redis://127.0.0.1:6380'),
  ...kafkaEnvFields,
});

export type LoaderConfig = z.infer<typeof LoaderEnv>;

export function loadLoaderConfig(env: NodeJS.ProcessEnv = process.env): LoaderConfig {
  return parseEnvConfig(LoaderEnv, env, 'warehouse loader');
}

/**
 * The configured warehouse, as a one-link fallback chain. The long-running loader lets go
 * of a DuckDB file after 2 s without events (`idleCloseMs`) so that `switchboard report`
 * can open it meanwhile.
 */
export function openWarehouse(
  config: LoaderConfig,
  opts: { idleCloseMs?: number; lockWaitMs?: number; gate?: FallbackGate } = {},
): Warehouse {
  const { gate, ...duckdb } = opts;
  const port =
    config.WAREHOUSE === 'snowflake'
      ? new SnowflakeWarehouse(snowflakeOptionsFromEnv())
      : new DuckDbWarehouse({
          ...(config.WAREHOUSE_PATH && { path: config.WAREHOUSE_PATH }),
          ...duckdb,
        });
  return new FallbackWarehouse([{ provider: port.name, port }], gate);
}

/** Kafka itself: the CLI's drain reads its topics' backlog with the client's admin. */
export function loaderBus(config: LoaderConfig): KafkaEventBus {
  return new KafkaEventBus({
    brokers: config.KAFKA_BROKERS,
    topicPrefix: config.EVENTS_TOPIC_PREFIX,
    clientId: 'switchboard-warehouse-loader',
  });
}
