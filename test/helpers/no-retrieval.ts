// An answerer with every vector index away, for real: the Qdrant stand-in behind a Toxiproxy
// proxy that is down, and the local PGlite index behind it closed. Questions then get the
// no-retrieval lines (conversation/answers/answer.ts), never a figure.
import { createAnswerer } from '../../conversation/answers/answer';
import type { Answerer } from '../../conversation/answers/answerer';
import { silentLog } from '../../infra/paths';
import { languageModelFromEnv } from '../../providers/llm/config';
import { FallbackVectorIndex } from '../../providers/vectors/fallback';
import { PgliteVectorIndex } from '../../providers/vectors/pglite';
import { QdrantVectorIndex } from '../../providers/vectors/qdrant';
import { hostPort, startFaultProxy, throughProxy } from '../../testing/faults';
import { QdrantReplayServer } from '../../testing/qdrant-replay';

export interface VectorsDown {
  answerer: Answerer;
  /** Retrievals that failed (every index away). */
  failures: string[];
  close(): Promise<void>;
}

export async function answererWithVectorsDown(): Promise<VectorsDown> {
  const qdrant = new QdrantReplayServer();
  const url = await qdrant.start();
  const proxy = await (await startFaultProxy()).proxy('vectors-down-qdrant', hostPort(url));
  const local = await PgliteVectorIndex.open();
  await local.ensureCollection(3);
  const index = new FallbackVectorIndex([
    { provider: 'qdrant', port: new QdrantVectorIndex({ url: throughProxy(url, proxy), timeoutMs: 1_000 }) }, // prettier-ignore
    { provider: 'pglite', port: local },
  ]);
  await proxy.down();
  await local.close();
  const failures: string[] = [];
  const answerer = createAnswerer({
    retrieve: (_q, o) => index.search(new Float32Array([1, 0, 0]), o),
    chain: languageModelFromEnv({ LLM_CHAIN: 'template' }, silentLog),
    onRetrievalFailed: (err) => failures.push(err.message),
  });
  return {
    answerer,
    failures,
    async close() {
      await proxy.up();
      await qdrant.close();
    },
  };
}
