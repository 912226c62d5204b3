// The per-frame audio path on the edge: what CallSession.onCallerFrame does with each 20 ms
// μ-law frame of the caller (decode, record, WebRTC VAD, endpointer, pre-roll, feeding the
// recognizer), timed frame by frame over real synthesized speech with pauses, against the
// μ-law decode alone in the same run. An utterance whose voice is weighed (a yes/no answer,
// a sound over the agent) also has each loud frame judged voiced or not: that path is timed
// on its own. The recognizer and the workflow are stand-ins that do nothing: their cost is
// not the frame path's. `./switchboard bench --frames`.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pcmToMulaw, mulawToPcm } from '../audio/mulaw';
import { splitFrames } from '../audio/frames';
import { repoRoot } from '../infra/paths';
import type { CallBridge } from '../media-edge/call/bridge';
import { CallRecorder } from '../media-edge/call/recorder';
import { Listener, type UtteranceRecognizer } from '../media-edge/call/listener';
import { CallSession, type CallStream } from '../media-edge/call/session';
import type { RecordingSink } from '../media-edge/call/recording-spool';
import { createVad } from '../media-edge/audio/vad';
import { concatPcm, silence, speak } from '../testing/speech-audio';
import { pct, spread } from './percentile';

const LINES = [
  "what's my balance",
  'I want to pay my bill',
  'yes please',
  'can you tell me about the fiber plan and what it costs each month',
];

/** Frames of a caller: each line, then 800 ms of quiet (the endpointer closes the turn). */
async function callerFrames(): Promise<Buffer[]> {
  const parts: Int16Array[] = [];
  for (const line of LINES)
    parts.push((await speak(line, { engine: 'flite', voice: 'kal' })).samples, silence(800));
  return splitFrames(concatPcm(...parts), 8000).map((f) => pcmToMulaw(f));
}

const idleRecognizer = (): UtteranceRecognizer => ({
  write: () => undefined,
  finish: () => new Promise(() => undefined), // the turn never reaches the workflow
  abort: () => undefined,
});

function timeEach(frames: Buffer[], rounds: number, onFrame: (f: Buffer) => void): number[] {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) {
      const t0 = performance.now();
      onFrame(f);
      times.push((performance.now() - t0) * 1000);
    }
  }
  return times;
}

export async function runFrameBench(opts: { rounds?: number } = {}): Promise<void> {
  const rounds = opts.rounds ?? 20;
  const frames = await callerFrames();
  const vad = await createVad();
  // A stream that never delivers: the frames are fed to the session directly.
  const stream: CallStream = {
    callSid: 'bench',
    streamSid: 'bench',
    isOpen: true,
    sendAudio: () => true,
    sendMark: () => true,
    clear: () => true,
    on: () => undefined,
    off: () => undefined,
    close: () => undefined,
  };
  const session = new CallSession(stream, {
    bridge: {} as CallBridge, // never reached: no utterance finishes
    vad,
    recognizer: idleRecognizer,
    tts: { synthesize: () => Promise.reject(new Error('not in this bench')) },
    recorder: new CallRecorder(),
    recordings: {} as RecordingSink, // never reached: the stream never closes
    track: () => undefined,
    log: () => undefined,
  });
  // What the session's listener does for an utterance whose voice is weighed.
  const weighing = new Listener({
    vad,
    recognizer: idleRecognizer,
    recorder: new CallRecorder(),
    onSpeaking: () => undefined,
    onUtterance: () => undefined,
    voiceWeighed: () => true,
  });
  // Warm-up (JIT, the WASM VAD), then the measured rounds.
  timeEach(frames, 2, (f) => session.onCallerFrame(f));
  timeEach(frames, 2, (f) => weighing.frame(f));
  const path_ = timeEach(frames, rounds, (f) => session.onCallerFrame(f));
  const weighed = timeEach(frames, rounds, (f) => weighing.frame(f));
  const decode = timeEach(frames, rounds, (f) => void mulawToPcm(f));
  vad.close();

  const result = {
    node: process.version,
    frames: path_.length,
    audioSeconds: (frames.length * 20 * rounds) / 1000,
    unit: 'µs per 20 ms frame',
    framePath: spread(path_),
    voiceWeighed: spread(weighed),
    baselineDecodeOnly: spread(decode),
    ratioP50: +(pct(path_, 50) / pct(decode, 50)).toFixed(1),
    ratioP95: +(pct(path_, 95) / pct(decode, 95)).toFixed(1),
    measuredAt: new Date().toISOString(),
  };
  console.log(
    `[bench] frame path on ${process.version}, ${result.frames} frames: ` +
      `p50 ${result.framePath.p50} / p95 ${result.framePath.p95} / p99 ${result.framePath.p99} µs; ` +
      `voice weighed p50 ${result.voiceWeighed.p50} / p95 ${result.voiceWeighed.p95} / p99 ${result.voiceWeighed.p99} µs; ` +
      `decode alone p50 ${result.baselineDecodeOnly.p50} / p95 ${result.baselineDecodeOnly.p95} µs ` +
      `(×${result.ratioP50} / ×${result.ratioP95})`,
  );
  const out = path.join(repoRoot, 'bench', 'results', 'frames');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log('results: bench/results/frames/latest.json');
}
