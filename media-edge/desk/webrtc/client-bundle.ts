// The browser's media client, bundled with esbuild from its TypeScript source on first request
// and kept in memory: the desk needs no build step and no CDN.
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '../../../infra/paths';

const ENTRY = path.join(repoRoot, 'media-edge', 'desk', 'client', 'desk-media.ts');

let bundle: Promise<string> | undefined;

export function deskMediaBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    write: false,
    logLevel: 'silent',
  }).then(
    (result) => result.outputFiles[0]!.text,
    (error: unknown) => {
      bundle = undefined; // the next request tries again
      throw error;
    },
  );
  return bundle;
}
