// Assembles the edge's audio side from its configuration: recognizers with their fallback
// policy, the TTS chain behind its cache, the recordings store, the per-call sessions, and
// the worker on this host's task queue that runs the workflow's host-bound activities.
import type { Answerer } from '../conversation/answers/answerer';
import { Redis } from 'ioredis';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createEdgeActivities } from '../activities/edge-activities';
import type { SpeechToText } from '../providers/stt/port';
import { S3ObjectStore, s3Options } from '../providers/object-store/s3';
import { DeepgramSpeechToText } from '../providers/stt/deepgram';
import { FallbackSpeechToText } from '../providers/stt/fallback';
import { PocketsphinxSpeechToText } from '../providers/stt/pocketsphinx';
import { TtsCache } from '../providers/tts/cache';
import { TtsChain } from '../providers/tts/chain';
import type { UtteranceRecognizer } from './call/listener';
import type { EdgeConfig } from './config';
import { EDGE_DRAIN_MS, EdgeCalls } from './call/edge-calls';
import type { EdgeSpeechConfig } from './speech-config';
import { cachedChainSynthesizer, type SynthesisStats } from './speech-synthesizer';

export interface EdgeRuntime {
  calls: EdgeCalls;
  tts: SynthesisStats;
  /** The TTS cache and the voice it is keyed by (tests and tooling look entries up). */
  speechCache: { cache: TtsCache; voice: string };
  hostWorker: Worker;
  /** Drains the calls' background work (`waiting` hears what is pending), then closes. */
  close(waiting?: (pending: string[]) => void): Promise<void>;
}

/** Deepgram first when it has a key, the local engine as its fallback (or alone). */
export function speechToTextFromEnv(env: NodeJS.ProcessEnv = process.env): FallbackSpeechToText {
  const local = new PocketsphinxSpeechToText();
  local.warm();
  const primary: SpeechToText = env.DEEPGRAM_API_KEY ? new DeepgramSpeechToText() : local;
  return new FallbackSpeechToText(primary, primary === local ? undefined : local);
}

export function utteranceRecognizer(
  stt: FallbackSpeechToText,
): (hints?: string[]) => UtteranceRecognizer {
  return (hints) => {
    const session = stt.open({ sampleRate: 8000, ...(hints && { hints }) });
    return {
      write: (pcm) => session.write(pcm),
      abort: () => session.abort(),
      async finish() {
        const r = await session.finish();
        return {
          text: r.transcript?.text ?? '',
          confidence: r.transcript?.confidence ?? 0,
          record: {
            ...(r.servedBy && { servedBy: r.servedBy }),
            attempts: r.attempts.map(({ provider, ok, error, ms }) => ({
              provider,
              ok,
              ms: Math.round(ms),
              ...(error && { error }),
            })),
          },
        };
      },
    };
  };
}

export async function createEdgeRuntime(opts: {
  config: EdgeConfig;
  speech: EdgeSpeechConfig;
  client: Client;
  connection: NativeConnection;
  stt?: FallbackSpeechToText;
  chain?: TtsChain;
  /** Grounded answers spoken while they are generated; without one, KB questions fail over. */
  answerer?: Answerer;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<EdgeRuntime> {
  const { config, speech } = opts;
  const redis = new Redis(speech.REDIS_URL, { maxRetriesPerRequest: 2 });
  const cache = new TtsCache({
    redis,
    store: new S3ObjectStore(s3Options(speech, speech.S3_AUDIO_BUCKET)),
    namespace: speech.TTS_CACHE_NAMESPACE,
  });
  const chain = opts.chain ?? TtsChain.fromEnv();
  const recordings = new S3ObjectStore(s3Options(speech, speech.S3_RECORDINGS_BUCKET));
  const tts = cachedChainSynthesizer(chain, cache);
  const calls = new EdgeCalls({
    client: opts.client,
    hostTaskQueue: config.hostTaskQueue,
    recognizer: utteranceRecognizer(opts.stt ?? speechToTextFromEnv()),
    tts,
    recordings,
    recordingsBucket: speech.S3_RECORDINGS_BUCKET,
    session: {
      endpointing: {
        hangoverMs: speech.ENDPOINT_HANGOVER_MS,
        minSpeechMs: speech.ENDPOINT_MIN_SPEECH_MS,
        maxUtteranceMs: speech.ENDPOINT_MAX_UTTERANCE_MS,
      },
      bargeInMinMs: speech.BARGE_IN_MIN_MS,
      dtmfGapMs: speech.DTMF_ENTRY_GAP_MS,
    },
    log: opts.log,
  });
  const hostWorker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.hostTaskQueue,
    activities: createEdgeActivities(calls, opts.answerer),
  });
  return {
    calls,
    tts: tts.stats,
    speechCache: { cache, voice: chain.voice },
    hostWorker,
    async close(waiting?: (pending: string[]) => void) {
      await calls.drain(EDGE_DRAIN_MS, waiting); // recordings stored and signalled before the connection goes
      chain.close();
      redis.disconnect();
    },
  };
}
