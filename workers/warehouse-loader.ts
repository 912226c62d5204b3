// Process entry of the warehouse loader: consumer group `switchboard-warehouse` on every
// event topic, loading each event into the warehouse (DuckDB by default) idempotently by
// event id. Stops on SIGINT/SIGTERM after the event in hand; a restart resumes from the
// group's committed offsets. Configuration from env (analytics/loader-config.ts).
import { EVENT_TYPES } from '../providers/events/catalog';
import { startEventLoader } from '../analytics/load-events';
import { FallbackEventBus } from '../providers/events/fallback';
import { healthPolicyFromEnv } from '../providers/health/policy';
import { sharedProviderHealth } from '../providers/health/provider-health';
import { loadLoaderConfig, loaderBus, openWarehouse } from '../analytics/loader-config';

const log = (line: string) => console.log(`[warehouse] ${line}`);

async function main(): Promise<void> {
  const config = loadLoaderConfig();
  const health = sharedProviderHealth(config.REDIS_URL, { policy: healthPolicyFromEnv(), log });
  const warehouse = openWarehouse(config, {
    idleCloseMs: 2_000,
    lockWaitMs: 30_000,
    gate: health.forFamily('warehouse'),
  });
  const kafka = loaderBus(config);
  const bus = new FallbackEventBus(
    [{ provider: kafka.name, port: kafka }],
    health.forFamily('events'),
  );
  const loader = await startEventLoader({
    bus,
    warehouse,
    groupId: config.WAREHOUSE_GROUP,
    log,
  });
  log(
    `loading ${EVENT_TYPES.length} event types from ${config.KAFKA_BROKERS.join(',')} ` +
      `(group ${config.WAREHOUSE_GROUP}) into ${warehouse.name}`,
  );
  const report = setInterval(() => {
    const s = loader.stats;
    if (s.handled) log(`${s.handled} handled, ${s.inserted} new, ${s.duplicates} repeats`);
  }, 60_000);
  report.unref();
  const stop = async () => {
    clearInterval(report);
    await loader.close();
    await bus.close();
    await warehouse.close();
    await health.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error('[warehouse] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
