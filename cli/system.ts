// `switchboard start` and `demo`: the local platform, the demo data and the knowledge index,
// then the call worker, the post-call worker, the warehouse loader and the media-edge,
// started together and stopped together.
import { Pool } from 'pg';
import { migrate, seed } from '../providers/postgres/schema';
import { ensureLocalKnowledgeIndex } from '../conversation/knowledge/local-index';
import { databaseUrl, infraUp, temporalUiUrl } from '../infra';
import { ensureBuilt } from './build';
import { localEnv } from './dev-env';
import { startApp, stopApps, waitReady, type AppProcess } from './processes';

export interface RunningSystem {
  env: NodeJS.ProcessEnv;
  apps: AppProcess[];
  stop(): Promise<void>;
}

export async function startSystem(opts: { quiet?: boolean } = {}): Promise<RunningSystem> {
  await infraUp({ quiet: opts.quiet });
  const pool = new Pool({ connectionString: databaseUrl() });
  try {
    await migrate(pool);
    await seed(pool);
  } finally {
    await pool.end();
  }
  const env = localEnv();
  const say = (line: string) => !opts.quiet && console.log(`[switchboard] ${line}`);
  // Built here, once, before the processes that read it start (each would otherwise wait
  // for whichever of them took the writer lock first).
  if (env.VECTOR_INDEX !== 'qdrant') await ensureLocalKnowledgeIndex({ log: say });
  // The processes run compiled (dist/, built here when older than the source).
  await ensureBuilt(say);
  const built = { built: true };
  say('starting the call worker, the post-call worker, the warehouse loader and the media-edge …');
  const worker = startApp('worker', 'workers/call-worker.ts', env, opts.quiet, built);
  const postCall = startApp('post-call', 'workers/post-call-worker.ts', env, opts.quiet, built);
  const loader = startApp('warehouse', 'workers/warehouse-loader.ts', env, opts.quiet, built);
  const edgeEnv = { LOG_LEVEL: 'warn', ...env };
  const edge = startApp('edge', 'media-edge/main.ts', edgeEnv, opts.quiet, built);
  const apps = [worker, postCall, loader, edge];
  try {
    const workerUp = new Promise<void>((resolve) =>
      worker.child.stdout?.on(
        'data',
        (c: Buffer) => /\[worker\] polling/.test(c.toString()) && resolve(),
      ),
    );
    let polling = false;
    void workerUp.then(() => (polling = true));
    await waitReady(worker, async () => polling);
    await waitReady(edge, async () => (await fetch(`${env.EDGE_PUBLIC_URL}/healthz`)).ok);
  } catch (err) {
    await stopApps(apps, { say });
    throw err;
  }
  say(
    `edge webhooks at ${env.EDGE_PUBLIC_URL}/v1/calls/incoming, Temporal Web UI at ${temporalUiUrl()}`,
  );
  return { env, apps, stop: () => stopApps(apps, { say }) };
}
