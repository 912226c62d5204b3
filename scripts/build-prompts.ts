// Regenerates assets/prompts/: every fixed message the call flow speaks, voiced by the local
// engine at build time and shipped as 8 kHz μ-law, plus index.json {text → file}.
//   npx tsx scripts/build-prompts.ts [--check]
// --check writes nothing and exits 1 when the shipped prompts are out of date.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCAL_TTS_DEFAULTS, LocalTts } from '../providers/tts/local';
import {
  APOLOGY,
  PROMPTS_DIR,
  PROMPTS_INDEX,
  type PromptIndex,
} from '../providers/tts/prerecorded';
import { COMMITMENT_REFUSAL } from '../conversation/safety/commitments';
import { NOT_CONFIDENT } from '../conversation/safety/grounding';
import { PRIVACY_REFUSAL } from '../conversation/safety/privacy';
import { CALM_REPLY } from '../conversation/safety/tone';
import { PROMPTS, initialCallState, step } from '../workflows/call-state';

/** Prompt name → text. The greeting comes from the state machine, so it cannot drift. */
export function fixedPrompts(): Record<string, string> {
  const greeting = step(initialCallState(), { kind: 'identified' }).say;
  if (!greeting) throw new Error('the state machine no longer greets an unknown caller');
  // The answer path's refusals are fixed too: they must play when every TTS provider is down.
  return {
    greeting,
    apology: APOLOGY,
    ...PROMPTS,
    notConfident: NOT_CONFIDENT,
    commitmentRefusal: COMMITMENT_REFUSAL,
    privacyRefusal: PRIVACY_REFUSAL,
    calmReply: CALM_REPLY,
  };
}

const fileName = (name: string) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ulaw`;

async function build(check: boolean): Promise<boolean> {
  const tts = new LocalTts(LOCAL_TTS_DEFAULTS);
  const index: PromptIndex = { voice: tts.voice, sampleRate: 8000, encoding: 'mulaw', prompts: {} };
  const files = new Map<string, Buffer>();
  for (const [name, text] of Object.entries(fixedPrompts())) {
    const audio = await tts.synthesize(text);
    const file = fileName(name);
    index.prompts[text] = file;
    files.set(file, audio.mulaw);
    console.log(`${file.padEnd(22)} ${String(audio.durationMs).padStart(6)} ms  ${text}`);
  }
  files.set(PROMPTS_INDEX, Buffer.from(`${JSON.stringify(index, null, 2)}\n`));

  const existing = new Set(await readdir(PROMPTS_DIR).catch(() => [] as string[]));
  const stale = [...existing].filter((f) => !files.has(f));
  const changed: string[] = [];
  for (const [file, bytes] of files) {
    const old = await readFile(path.join(PROMPTS_DIR, file)).catch(() => undefined);
    if (!old || digest(old) !== digest(bytes)) changed.push(file);
  }
  if (check) {
    for (const f of [...changed, ...stale]) console.error(`out of date: ${f}`);
    return changed.length + stale.length === 0;
  }
  await mkdir(PROMPTS_DIR, { recursive: true });
  for (const file of changed) await writeFile(path.join(PROMPTS_DIR, file), files.get(file)!);
  for (const file of stale) await rm(path.join(PROMPTS_DIR, file));
  const bytes = [...files.values()].reduce((n, b) => n + b.length, 0);
  console.log(
    `${files.size - 1} prompts, ${(bytes / 1024).toFixed(0)} KiB; ` +
      `${changed.length} written, ${stale.length} removed`,
  );
  return true;
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

if (require.main === module) {
  build(process.argv.includes('--check')).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
