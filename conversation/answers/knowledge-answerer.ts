// The grounded answerer a process runs (call worker for text calls, media edge for audio
// calls): the published knowledge index (built from kb/ on first start) searched with the
// knowledge embedder, USE lite for the faithfulness check (its threshold was calibrated on
// it) and the extractive answer's ranking, and the LLM chain
// from the environment, warmed so the first caller does not wait for a model load.
// ANSWER_EXTRACTIVE_FIRST: `auto` (default) says the extractive answer first when the first
// model the chain would ask is the local one (no cloud model configured): it is faster and
// checked better there (docs/answers.md); `true` / `false` force it on or off.
import {
  DEFAULT_KB_FOLDER,
  ensureLocalKnowledgeIndex,
  knowledgeEmbedder,
  openLocalKnowledgeIndex,
} from '../knowledge/local-index';
import { loadKnowledgeFolder } from '../knowledge/documents';
import { Retriever } from '../knowledge/retrieve';
import { sharedUseLiteEmbedder } from '../../providers/embeddings/use-lite';
import { QdrantVectorIndex } from '../../providers/vectors/qdrant';
import { FallbackVectorIndex } from '../../providers/vectors/fallback';
import type { VectorIndex } from '../../providers/vectors/port';
import type { ProviderHealth } from '../../providers/health/provider-health';
import { extractPlanNames } from '../safety/grounding';
import { createAnswerer } from './answer';
import type { Answerer } from './answerer';
import { languageModelFromEnv } from '../../providers/llm/config';
import { warmUpLlmChain } from './prompt';

export async function createKnowledgeAnswerer(
  opts: {
    env?: NodeJS.ProcessEnv;
    log?: (line: string) => void;
    kbFolder?: string;
    /** The fleet's provider health for the vector store and the LLM chain. */
    health?: ProviderHealth;
  } = {},
): Promise<Answerer> {
  const log = opts.log ?? (() => undefined);
  const env = opts.env ?? process.env;
  // Production: Qdrant (`VECTOR_INDEX=qdrant`, QDRANT_URL…), with the published local PGlite
  // index behind it for when Qdrant is away; locally the PGlite index alone.
  const indexes: VectorIndex[] = [];
  if (env.VECTOR_INDEX === 'qdrant') indexes.push(new QdrantVectorIndex({}, env));
  await ensureLocalKnowledgeIndex({ log });
  const local = openLocalKnowledgeIndex();
  indexes.push(local);
  const links = indexes.map((index) => ({ provider: index.name, port: index }));
  const embedder = sharedUseLiteEmbedder();
  const retriever = new Retriever(
    knowledgeEmbedder(),
    new FallbackVectorIndex(links, opts.health?.forFamily('vectors')),
  );
  const chain = languageModelFromEnv(env, log, opts.health?.forFamily('llm'));
  // The embedder's model and the indexes open on first use (≈ 1.5 s): not on a caller's turn.
  // The local index too when Qdrant is ahead of it, so the first caller Qdrant's outage sends
  // to it does not wait for its load. A vector store that is down now is not fatal: answers
  // fail over until it is back.
  await Promise.all([
    retriever.retrieve('what is the late fee', { topK: 1 }),
    local.refresh(),
  ]).catch((err: Error) => {
    log(`[answers] retrieval warm-up failed (${err.message}); answers will try again per call`);
  });
  await warmUpLlmChain(chain);
  const docs = await loadKnowledgeFolder(opts.kbFolder ?? DEFAULT_KB_FOLDER);
  const extractiveFirst = extractiveFirstFromEnv(env, chain.providers);
  log(
    `[answers] LLM chain: ${[...(extractiveFirst ? ['extractive'] : []), ...chain.providers].join(' → ')}`,
  );
  return createAnswerer({
    retrieve: (question, o) => retriever.retrieve(question, o),
    chain,
    embedder,
    extractiveFirst,
    planNames: extractPlanNames(docs.map((d) => d.source)),
    onRetrievalFailed: (err) => log(`[answers] no vector index answered: ${err.message}`),
  });
}

/** Whether the extractive answer goes first: `auto` when the chain would start with the local model. */
export function extractiveFirstFromEnv(env: NodeJS.ProcessEnv, providers: string[]): boolean {
  const mode = (env.ANSWER_EXTRACTIVE_FIRST ?? 'auto').trim().toLowerCase();
  if (mode === 'true') return true;
  if (mode === 'false') return false;
  if (mode !== 'auto') {
    throw new Error(`invalid ANSWER_EXTRACTIVE_FIRST: ${mode} (auto, true or false)`);
  }
  return providers[0] === 'local';
}
