// Assembles the edge's audio side from its configuration: recognizers with their fallback
// policy, the TTS chain behind its cache, the recordings store, the per-call sessions, and
// the worker on this host's task queue that runs the workflow's host-bound activities.
import type { Answerer } from '../conversation/answers/answerer';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createEdgeActivities } from '../activities/edge-activities';
import type { SpeechToText } from '../providers/stt/port';
import { S3ObjectStore, s3Options } from '../providers/object-store/s3';
import { DeepgramSpeechToText } from '../providers/stt/deepgram';
import { FallbackSpeechToText } from '../providers/stt/fallback';
import { FallbackExhaustedError } from '../providers/fallback';
import type { ProviderHealth } from '../providers/health/provider-health';
import { EngineProcessSpeechToText, type EngineName } from '../providers/stt/engine-process';
import { QuestionRoutedSpeechToText } from '../providers/stt/question-routed';
import {
  SecondOpinionSpeechToText,
  type NeedsCorroboration,
  type ReadingJudge,
  type SecondOpinionOptions,
} from '../providers/stt/second-opinion';
import { DEFAULT_CALL_CONFIG, DEFAULT_PAYMENT_CONFIRM_THRESHOLD } from '../contracts/call';
import { SYLLABLE_MS } from '../audio/voicing';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { MixedAnswerGuard } from '../providers/intent/mixed-answer';
import { FallbackCache } from '../providers/cache/fallback';
import { MemoryCache } from '../providers/cache/memory';
import { RedisCache, redisCacheClient } from '../providers/cache/redis';
import { TtsCache } from '../providers/tts/cache';
import { textToSpeechFromEnv } from '../providers/tts/config';
import type { FallbackTextToSpeech } from '../providers/tts/fallback';
import type { Recognizers, UtteranceRecognizer } from './call/listener';
import type { EdgeConfig } from './config';
import { EDGE_DRAIN_MS, EdgeCalls } from './call/edge-calls';
import { RecordingSpool } from './call/recording-spool';
import { noticeRecording } from './call/recording-notice';
import { TtsOutageWatch } from './call/tts-outage';
import { type EdgeSpeechConfig, loadEdgeSpeechConfig } from './speech-config';
import { callerAudioFromConfig } from './audio/caller-audio';
import type { MediaPlane } from './media/media-plane';
import { cachedChainSynthesizer, type SynthesisStats } from './speech-synthesizer';

export interface EdgeRuntime {
  calls: EdgeCalls;
  tts: SynthesisStats;
  /** The TTS cache and the voice it is keyed by (tests and tooling look entries up). */
  speechCache: { cache: TtsCache; voice: string };
  hostWorker: Worker;
  /** Recordings on the edge's disk until the object store has them. */
  recordings: RecordingSpool;
  /** The recordings bucket itself (the agent desk plays finished calls from it). */
  recordingsStore: S3ObjectStore;
  /** Drains the calls' background work (`waiting` hears what is pending), then closes. */
  close(waiting?: (pending: string[]) => void): Promise<void>;
}

/**
 * Deepgram first when it has a key, the local engine (LOCAL_STT) as its fallback (or
 * alone). The local engine loads now, so a missing one fails the edge's start, not a call.
 */
export async function speechToTextFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  health?: ProviderHealth,
  log?: (line: string) => void,
): Promise<FallbackSpeechToText> {
  const speech = loadEdgeSpeechConfig(env);
  const local = localSpeechToText(speech.LOCAL_STT, log, {
    msPerSyllable: speech.CLOSED_ANSWER_MS_PER_SYLLABLE,
    recheck: speech.LOCAL_STT_RECHECK === 'whisper',
    openWaitMs: speech.LOCAL_STT_OPEN_WAIT_MS,
  });
  local.warm();
  await local.ready().catch((err: unknown) => {
    local.dispose();
    throw err;
  });
  const primary: SpeechToText = env.DEEPGRAM_API_KEY ? new DeepgramSpeechToText() : local;
  return new FallbackSpeechToText(primary, primary === local ? undefined : local, {
    ...(health && { gate: health.forFamily('stt') }),
  });
}

/** Moonshine transcribers kept loaded with LOCAL_STT=auto (its default): a third reading waits. */
const OPEN_READERS = 2;
/** A Moonshine reading later than the recognizer's budget gives way to a clear grammar reading. */
const OPEN_READING_WAIT_MS = loadEdgeSpeechConfig({}).LOCAL_STT_OPEN_WAIT_MS;

/**
 * The local recognizer LOCAL_STT names (the evaluation builds it the same way). Each engine
 * runs in a process of its own: a fault in its native code costs the utterances it held,
 * not the edge.
 */
export function localSpeechToText(
  which: EdgeSpeechConfig['LOCAL_STT'],
  log?: (line: string) => void,
  {
    corroborate = true,
    msPerSyllable = SYLLABLE_MS,
    recheck = true,
    openWaitMs = OPEN_READING_WAIT_MS,
  }: {
    /** A closed answer worth the other engine's word: a doubted yes, a goodbye (closedAnswer). */
    corroborate?: boolean;
    /** Voiced ms a syllable may account for: a second reading explaining too little is not taken. */
    msPerSyllable?: number;
    /** Whisper rereads a request the two engines left unclear (LOCAL_STT_RECHECK). */
    recheck?: boolean;
    /** A request's Moonshine reading is waited for this long over a clear grammar reading. */
    openWaitMs?: number;
  } = {},
) {
  const engine = (name: EngineName, poolSize?: number) =>
    new EngineProcessSpeechToText(name, { ...(log && { log }), ...(poolSize && { poolSize }) });
  if (which !== 'auto') return engine(which);
  const grammar = engine('pocketsphinx');
  const open = engine('moonshine', OPEN_READERS);
  // Each engine's reading gets the other's second opinion where it is unclear, judged by the
  // worker's own intent model, so the edge reads requests as the workflow will.
  const model = createEmbeddingIntentClassifier();
  model.warmUp().catch(() => undefined); // a failed warm-up is retried by the first reading
  const intent = new MixedAnswerGuard(model);
  const judge = lastJudged((text: string) => intent.classify(text));
  const answerRules = { msPerSyllable, ...(corroborate && { corroborate: closedAnswer }) };
  const requestRules = { msPerSyllable };
  const closed = new SecondOpinionSpeechToText(grammar, open, judge, answerRules);
  // When callers end their turns together, Moonshine's readers are all taken and a request
  // would queue behind theirs, or its reading runs late on a busy host: the grammar's clear
  // reading of it is taken instead.
  const request = new SecondOpinionSpeechToText(open, grammar, judge, {
    ...requestRules,
    mainBusy: () => open.readingsAwaited >= OPEN_READERS || open.stats.streams > 2 * OPEN_READERS,
    mainWaitMs: openWaitMs,
  });
  // Whisper is the best reader of unknown voices and the slowest (bench/asr-eval.ts): it
  // reads what both fast engines left unclear, where the caller would otherwise be asked to
  // say it again or would act on a request nobody made; over a reading in doubt (no request,
  // disputed, a goodbye one engine heard) its request stands at the call's threshold, and its
  // sure "no request" overrules a request that is unsure or in doubt.
  const whisper = recheck ? engine('whisper') : undefined;
  const reread = (pair: SecondOpinionSpeechToText, rules: SecondOpinionOptions) =>
    whisper
      ? new SecondOpinionSpeechToText(pair, whisper, judge, {
          ...rules,
          betterReaderAt: DEFAULT_CALL_CONFIG.confidenceThreshold,
        })
      : pair;
  // A sound over the agent is read by the grammar alone: its listening words are no request
  // to the intent model, which would take a misheard open reading over them.
  return new QuestionRoutedSpeechToText(
    reread(closed, answerRules),
    reread(request, requestRules),
    grammar,
  );
}

/** A stack of opinions judges the reading it kept once more: the last texts' verdicts are kept. */
function lastJudged(judge: ReadingJudge, keep = 32): ReadingJudge {
  const seen = new Map<string, ReturnType<ReadingJudge>>();
  return (text) => {
    let verdict = seen.get(text);
    if (!verdict) {
      verdict = judge(text);
      seen.set(text, verdict);
      verdict.catch(() => seen.delete(text)); // a failure is asked again
      if (seen.size > keep) seen.delete(seen.keys().next().value!);
    }
    return verdict;
  };
}

/**
 * A yes to a closed question that one engine alone is not sure enough of to move money: the
 * other engine's agreement can make it so, where the caller would otherwise be asked again.
 * A goodbye to one declines it and ends the call: the grammar makes one of a sentence outside
 * its phrases ("hold on" → "till all done"), so it stands only once two engines heard it.
 */
const closedAnswer: NeedsCorroboration = (request, reading) => {
  if (request.name === 'confirm_yes')
    return reading.confidence < DEFAULT_PAYMENT_CONFIRM_THRESHOLD ? 'raises' : 'none';
  return request.name === 'goodbye' && (reading.agreedBy ?? 1) < 2 ? 'required' : 'none';
};

export function utteranceRecognizer(stt: FallbackSpeechToText): Recognizers {
  return (asked) => {
    const stream = stt.start({ sampleRate: 8000, ...asked });
    let aborted = false;
    const recognizer: UtteranceRecognizer = {
      write: (pcm) => stream.write(pcm),
      abort: () => {
        aborted = true;
        stream.abort();
      },
      async finish() {
        try {
          const t = await stream.finish();
          return {
            text: t.text,
            confidence: t.confidence,
            record: { servedBy: t.provider, attempts: t.attempts ?? [] },
          };
        } catch (err) {
          // No recognizer served (or the call ended first): an empty utterance, and the
          // workflow asks the caller to repeat.
          if (!(err instanceof FallbackExhaustedError) && !aborted) throw err;
          const attempts = err instanceof FallbackExhaustedError ? err.attempts : [];
          return { text: '', confidence: 0, record: { attempts } };
        }
      },
    };
    stream.onPartial = (text) => recognizer.onPartial?.(text);
    return recognizer;
  };
}

export async function createEdgeRuntime(opts: {
  config: EdgeConfig;
  speech: EdgeSpeechConfig;
  client: Client;
  connection: NativeConnection;
  stt?: FallbackSpeechToText;
  chain?: FallbackTextToSpeech;
  /** Grounded answers spoken while they are generated; without one, KB questions fail over. */
  answerer?: Answerer;
  /** The fleet's provider health: open providers are passed over at once. */
  health?: ProviderHealth;
  /** The host's media plane (MEDIA_PLANE=on): every call is bridged into its router. */
  media?: MediaPlane;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<EdgeRuntime> {
  const { config, speech, health } = opts;
  const redis = redisCacheClient(speech.REDIS_URL);
  const cache = new TtsCache({
    cache: new FallbackCache(
      // Redis down: prompts this edge already synthesized come from its memory.
      [
        { provider: 'redis', port: new RedisCache(redis) },
        { provider: 'memory', port: new MemoryCache() },
      ],
      health?.forFamily('cache'),
    ),
    store: new S3ObjectStore(s3Options(speech, speech.S3_AUDIO_BUCKET)),
    namespace: speech.TTS_CACHE_NAMESPACE,
  });
  const chain = opts.chain ?? textToSpeechFromEnv(process.env, health?.forFamily('tts'));
  const recordingsStore = new S3ObjectStore(s3Options(speech, speech.S3_RECORDINGS_BUCKET));
  const recordings = new RecordingSpool({
    dir: speech.RECORDING_SPOOL_DIR,
    store: recordingsStore,
    notify: (callSid, ref) => noticeRecording(opts.client, callSid, ref),
    retryMaxMs: speech.RECORDING_RETRY_MAX_MS,
    log: opts.log,
  });
  // What an earlier run left on disk (the store was away, the edge stopped) goes up now.
  void recordings.resume().then((left) => {
    if (left > 0) opts.log('uploading recordings left in the spool', { recordings: left });
  });
  const tts = cachedChainSynthesizer(chain, cache);
  const stt = opts.stt ?? (await speechToTextFromEnv(process.env, health, (l) => opts.log(l)));
  const callerAudio = callerAudioFromConfig(speech, opts.log);
  const calls = new EdgeCalls({
    client: opts.client,
    vad: callerAudio.createVad,
    hostTaskQueue: config.hostTaskQueue,
    recognizer: utteranceRecognizer(stt),
    tts,
    recordings,
    recordingsBucket: speech.S3_RECORDINGS_BUCKET,
    ...(opts.media && { media: opts.media }),
    // Without provider health there are no breakers to tell an outage by.
    ...(health && {
      ttsOutage: new TtsOutageWatch({
        links: chain.links,
        breaker: (provider) => health.state(`tts:${provider}`),
        chain,
        afterMs: speech.TTS_OUTAGE_AFTER_MS,
      }),
    }),
    session: {
      endpointing: {
        hangoverMs: speech.ENDPOINT_HANGOVER_MS,
        minSpeechMs: speech.ENDPOINT_MIN_SPEECH_MS,
        maxUtteranceMs: speech.ENDPOINT_MAX_UTTERANCE_MS,
      },
      ...(callerAudio.turns && { turns: callerAudio.turns }),
      bargeInMinMs: speech.BARGE_IN_MIN_MS,
      closedAnswerMsPerSyllable: speech.CLOSED_ANSWER_MS_PER_SYLLABLE,
      ...(speech.FALSE_INTERRUPTION_RESUME === 'on' && {
        falseInterruption: {
          maxSpeechMs: speech.BACKCHANNEL_MAX_MS,
          waitMs: speech.FALSE_INTERRUPTION_WAIT_MS,
          minConfidence: speech.FALSE_INTERRUPTION_MIN_CONFIDENCE,
          minVoicedMs: speech.FALSE_INTERRUPTION_MIN_VOICED_MS,
        },
      }),
      dtmfGapMs: speech.DTMF_ENTRY_GAP_MS,
      hold: { afterMs: speech.HOLD_LINE_AFTER_MS, everyMs: speech.HOLD_LINE_EVERY_MS },
      transfersByTwilio:
        config.call.handoffTarget !== 'desk' && config.call.agentQueueNumber !== undefined,
      transfersToDesk: config.call.handoffTarget === 'desk',
    },
    log: opts.log,
  });
  const hostWorker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.hostTaskQueue,
    // The client's: what the workflows send the edge's activities is encrypted the same way.
    dataConverter: opts.client.options.dataConverter,
    activities: createEdgeActivities(calls, opts.answerer),
  });
  return {
    calls,
    tts: tts.stats,
    speechCache: { cache, voice: chain.voice },
    hostWorker,
    recordings,
    recordingsStore,
    async close(waiting?: (pending: string[]) => void) {
      await calls.drain(EDGE_DRAIN_MS, waiting); // recordings stored and signalled before the connection goes
      recordings.close(); // what is still on disk is uploaded at the next start
      chain.close();
      if (!opts.stt) stt.dispose(); // the engines' processes
      redis.disconnect();
    },
  };
}
