// The process one local recognizer runs in, started by EngineProcessSpeechToText (index.ts)
// with the engine's name and settings as arguments. The engine's native library is loaded
// here, so an abort or a segfault inside it ends this process and the utterances it held,
// not the edge and every call on it.
import { ProviderError } from '../../provider-error';
import { MoonshineSpeechToText } from '../moonshine';
import { PocketsphinxSpeechToText } from '../pocketsphinx';
import type { SttStream, WarmableSpeechToText } from '../port';
import { WhisperSpeechToText } from '../whisper';
import type { EngineName, EngineSettings, FromEngine, ToEngine, WireError } from './protocol';

const name = process.argv[2] as EngineName;
const settings = JSON.parse(process.argv[3] ?? '{}') as EngineSettings;
const streams = new Map<number, SttStream>();

function send(m: FromEngine): void {
  if (process.connected) process.send!(m);
}

function wire(err: unknown): WireError {
  const e = ProviderError.from(name, err);
  return {
    kind: e.kind,
    message: e.message,
    retryable: e.retryable,
    ...(e.status !== undefined && { status: e.status }),
  };
}

function load(): WarmableSpeechToText {
  const engine =
    name === 'moonshine'
      ? new MoonshineSpeechToText(settings)
      : name === 'pocketsphinx'
        ? new PocketsphinxSpeechToText(settings)
        : name === 'whisper'
          ? // Its model runs in Python, a child of this process: if it ends, this one does,
            // so the edge's restart policy covers it too.
            new WhisperSpeechToText({ onEnded: () => process.exit(1) })
          : undefined;
  if (!engine) throw new ProviderError(String(name), 'bad_input', `no local engine ${name}`);
  engine.warm?.();
  return engine;
}

function serve(engine: WarmableSpeechToText, m: ToEngine): void {
  const settle = (id: number, result: Promise<FromEngine>) =>
    void result
      .catch((err: unknown): FromEngine => ({ op: 'error', id, error: wire(err) }))
      .then(send);
  switch (m.op) {
    case 'open':
      return settle(
        m.id,
        engine.open({ sampleRate: m.sampleRate, ...m.asked }).then((s) => {
          s.onPartial = (text) => send({ op: 'partial', id: m.id, text });
          streams.set(m.id, s);
          return { op: 'opened', id: m.id };
        }),
      );
    case 'write':
      return streams.get(m.id)?.write(m.pcm);
    case 'finish': {
      const s = streams.get(m.id);
      streams.delete(m.id);
      if (!s)
        return settle(
          m.id,
          Promise.reject(new ProviderError(name, 'aborted', 'no such utterance')),
        );
      return settle(
        m.id,
        s.finish().then((transcript) => ({ op: 'result', id: m.id, transcript })),
      );
    }
    case 'abort':
      streams.get(m.id)?.abort();
      streams.delete(m.id);
      return;
    case 'transcribe':
      return settle(
        m.id,
        engine
          .transcribe(m.audio, m.asked)
          .then((transcript) => ({ op: 'result', id: m.id, transcript })),
      );
  }
}

try {
  const engine = load();
  process.on('message', (m: ToEngine) => serve(engine, m));
  send({ op: 'ready' });
} catch (err) {
  process.send!({ op: 'failed', error: wire(err) } satisfies FromEngine, () => process.exit(1));
}
// The edge is gone (or let this process go): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
