// Process entry of the history codec: the Temporal Web UI's remote codec endpoint
// (infra/codec-server.ts) with the keys of PAYLOAD_ENCRYPTION_KEYS.
import { z } from 'zod';
import { buildCodecServer } from '../infra/codec-server';
import { payloadCodecFromEnv } from '../infra/payload-codec';

const log = (line: string) => console.log(`[history-codec] ${line}`);

const config = z
  .object({
    HISTORY_CODEC_HOST: z.string().default('127.0.0.1'),
    HISTORY_CODEC_PORT: z.coerce.number().int().min(1).max(65535).default(8234),
    HISTORY_CODEC_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  })
  .parse(process.env);

async function main(): Promise<void> {
  const origins = config.HISTORY_CODEC_ORIGINS.split(',').map((o) => o.trim());
  const app = buildCodecServer(payloadCodecFromEnv(), { origins, log });
  await app.listen({ host: config.HISTORY_CODEC_HOST, port: config.HISTORY_CODEC_PORT });
  log(`decoding for ${origins.join(', ')} at http://${config.HISTORY_CODEC_HOST}:${config.HISTORY_CODEC_PORT}`); // prettier-ignore
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error('[history-codec] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
