// Settings the local system shares between the edge, the worker and the simulator.
// Secrets come from the environment; for local runs without them, random ones are made
// once and kept in .switchboard/dev.env (mode 0600), never in the repo.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  databaseUrl,
  kafkaBrokers,
  objectStoreConfig,
  paths,
  redisUrl,
  stateDir,
  temporalAddress,
  temporalNamespace,
} from '../infra';
import { newPayloadKeys } from '../infra/payload-codec';

/** Made once, then kept: the history key above all (a new one could not read old calls). */
const GENERATED: Record<string, () => string> = {
  TWILIO_AUTH_TOKEN: () => randomBytes(24).toString('hex'),
  STREAM_TOKEN_SECRET: () => randomBytes(24).toString('hex'),
  PAYLOAD_ENCRYPTION_KEYS: () => newPayloadKeys('local-1'),
};

function devSecrets(): Record<string, string> {
  const file = path.join(stateDir(), 'dev.env');
  const kept: Record<string, string> = {};
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) kept[m[1]!] = m[2]!;
    }
  }
  const missing = Object.keys(GENERATED).filter((k) => !kept[k]);
  if (missing.length) {
    for (const k of missing) kept[k] = GENERATED[k]!();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      Object.entries(kept)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
  }
  return kept;
}

/** The environment of the local system's processes: the caller's variables win. */
export function localEnv(): NodeJS.ProcessEnv {
  const port = process.env.EDGE_PORT ?? '8080';
  const store = objectStoreConfig('audio');
  return {
    REDIS_URL: redisUrl(),
    S3_ENDPOINT: store.endpoint,
    S3_REGION: store.region,
    S3_ACCESS_KEY_ID: store.accessKeyId,
    S3_SECRET_ACCESS_KEY: store.secretAccessKey,
    S3_AUDIO_BUCKET: store.bucket,
    S3_RECORDINGS_BUCKET: objectStoreConfig('recordings').bucket,
    // The state directory's, whatever the edge's working directory.
    RECORDING_SPOOL_DIR: path.join(paths().data, 'recording-spool'),
    // No cloud credentials locally: speak with the local engine, prompts as the last resort.
    TTS_CHAIN: 'local,prerecorded,pieces',
    ...devSecrets(),
    EDGE_PORT: port,
    EDGE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    DATABASE_URL: databaseUrl(),
    KAFKA_BROKERS: kafkaBrokers().join(','),
    ...process.env,
  };
}
