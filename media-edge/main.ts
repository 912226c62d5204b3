// media-edge process entry: config from the environment, Temporal client, HTTP server.
// SIGTERM/SIGINT stop accepting requests, let in-flight webhooks finish, then exit.
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { loadEdgeConfig } from './config';
import { buildEdgeServer } from './server';

async function main(): Promise<void> {
  const logger = pino({ name: 'media-edge', level: process.env.LOG_LEVEL ?? 'info' });
  const config = loadEdgeConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporalClient = new Client({ connection, namespace: config.temporal.namespace });
  const app = await buildEdgeServer({ config, temporalClient, logger });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await app.close();
      await connection.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  logger.info(
    { publicUrl: config.publicUrl, hostId: config.hostId, namespace: config.temporal.namespace },
    'media-edge listening',
  );
}

main().catch((err: unknown) => {
  // Config errors name the variable, never its value; print them plainly.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
