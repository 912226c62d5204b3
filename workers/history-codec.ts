// Process entry of the history codec: the Temporal Web UI's remote codec endpoint
// (infra/codec-server.ts) with the keys of PAYLOAD_ENCRYPTION_KEYS.
import { z } from 'zod';
import { buildCodecServer } from '../infra/codec-server';
import { payloadCodecFromEnv } from '../infra/payload-codec';
import { parseEnvConfig } from '../providers/env-config';

const log = (line: string) => console.log(`[history-codec] ${line}`);

const schema = z.object({
  HISTORY_CODEC_HOST: z.string().default('127.0.0.1'),
  HISTORY_CODEC_PORT: z.coerce.number().int().min(1).max(65535).default(8234),
  HISTORY_CODEC_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
});

async function main(): Promise<void> {
  const config = parseEnvConfig(schema, process.env, 'history codec');
  const origins = config.HISTORY_CODEC_ORIGINS.split(',').map((o) => o.trim());
  const app = buildCodecServer(payloadCodecFromEnv(), { origins, log });
  const { HISTORY_CODEC_HOST: host, HISTORY_CODEC_PORT: port } = config;
  await app.listen({ host, port });
  log(`decrypting for ${origins.join(', ')} at http://${host}:${port}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error('[history-codec] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
