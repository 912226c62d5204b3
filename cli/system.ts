// `switchboard start` and `demo`: the local platform, the demo data and the knowledge index,
// then the call worker, the post-call worker, the warehouse loader and the media-edge,
// started together and stopped together.
import { migrate, seed } from '../providers/postgres/schema';
import { ensureLocalKnowledgeIndex } from '../conversation/knowledge/local-index';
import { databaseUrl, historyCodecEnv, infraUp, temporalUiUrl } from '../infra';
import { createPostgresPool } from '../infra/postgres-pool';
import { Connection } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { buildIdOf, makeCurrentVersion, type WorkerDeploymentVersion } from '../workers/versioning';
import { WORKFLOW_BUNDLE_FILE } from '../workers/workflow-code';
import { distDir, ensureBuilt } from './build';
import { localEnv } from './dev-env';
import { startApp, stopApps, waitReady, type AppProcess } from './processes';

export interface RunningSystem {
  env: NodeJS.ProcessEnv;
  apps: AppProcess[];
  stop(): Promise<void>;
}

export async function startSystem(opts: { quiet?: boolean } = {}): Promise<RunningSystem> {
  await infraUp({ quiet: opts.quiet });
  const pool = createPostgresPool(databaseUrl());
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
  const version = deploymentVersion(env);
  const workerEnv = {
    ...env,
    WORKER_DEPLOYMENT_NAME: version.deploymentName,
    WORKER_BUILD_ID: version.buildId,
  };
  say(
    'starting the call worker, the post-call worker, the warehouse loader, the media-edge and the history codec …',
  );
  const worker = startApp('worker', 'workers/call-worker.ts', workerEnv, opts.quiet, built);
  const postCall = startApp(
    'post-call',
    'workers/post-call-worker.ts',
    workerEnv,
    opts.quiet,
    built,
  );
  const loader = startApp('warehouse', 'workers/warehouse-loader.ts', env, opts.quiet, built);
  const edgeEnv = { LOG_LEVEL: 'warn', ...env };
  const edge = startApp('edge', 'media-edge/main.ts', edgeEnv, opts.quiet, built);
  // The Web UI's codec, so the encrypted history reads as text there.
  const codecEnv = { ...env, ...historyCodecEnv() };
  const codec = startApp('history-codec', 'workers/history-codec.ts', codecEnv, opts.quiet, built);
  const apps = [worker, postCall, loader, edge, codec];
  try {
    await Promise.all([polling(worker), polling(postCall)]);
    await makeCurrent(env, version);
    say(`new calls run on build ${version.buildId} of ${version.deploymentName}, pinned to it`);
    await waitReady(edge, async () => (await fetch(`${env.EDGE_PUBLIC_URL}/healthz`)).ok);
    const codecUrl = `http://${codecEnv.HISTORY_CODEC_HOST}:${codecEnv.HISTORY_CODEC_PORT}/decode`;
    const empty = { method: 'POST', body: '{"payloads":[]}', headers: { 'content-type': 'application/json' } }; // prettier-ignore
    await waitReady(codec, async () => (await fetch(codecUrl, empty)).ok);
  } catch (err) {
    await stopApps(apps, { say });
    throw err;
  }
  say(
    `edge webhooks at ${env.EDGE_PUBLIC_URL}/v1/calls/incoming, Temporal Web UI at ${temporalUiUrl()}`,
  );
  return { env, apps, stop: () => stopApps(apps, { say }) };
}

/**
 * The workers run as one version of a Worker Deployment, named by the workflow bundle's hash:
 * a rebuilt workflow is a new version, and calls in progress stay on the one they began on.
 */
function deploymentVersion(env: NodeJS.ProcessEnv): WorkerDeploymentVersion {
  const bundle = fs.readFileSync(path.join(distDir, WORKFLOW_BUNDLE_FILE));
  return {
    deploymentName: env.WORKER_DEPLOYMENT_NAME || 'switchboard',
    buildId: env.WORKER_BUILD_ID || buildIdOf(bundle),
  };
}

/** Resolves once the worker says it polls its queue. */
function polling(app: AppProcess): Promise<void> {
  let up = false;
  app.child.stdout?.on('data', (c: Buffer) => {
    if (/\] polling/.test(c.toString())) up = true;
  });
  return waitReady(app, async () => up);
}

async function makeCurrent(env: NodeJS.ProcessEnv, version: WorkerDeploymentVersion) {
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  try {
    await makeCurrentVersion(connection, env.TEMPORAL_NAMESPACE ?? 'default', version);
  } finally {
    await connection.close();
  }
}
