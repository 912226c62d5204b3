// What the edge's audio path needs besides the webhook config: the TTS cache (Redis +
// object store), the recordings store, endpointing and the local recognizer. Read once from
// the environment.
import { z } from 'zod';
import { ttsCacheNamespaceField } from '../providers/tts/cache';
import { SYLLABLE_MS } from '../audio/voicing';

const schema = z.object({
  REDIS_URL: z.string().default('redis://127.0.0.1:6380'),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  // Not AWS_ACCESS_KEY_ID: those would also switch on the Polly adapter.
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_AUDIO_BUCKET: z.string().default('switchboard-audio'),
  S3_RECORDINGS_BUCKET: z.string().default('switchboard-recordings'),
  /** Recordings wait here until the object store has them (it may be down at hang-up). */
  RECORDING_SPOOL_DIR: z.string().default('.switchboard/data/recording-spool'),
  /**
   * Upload retries back off from 1 s, doubling up to this: short next to the workflow's
   * 30 s wait, so a store back within it gets the recording into the call log.
   */
  RECORDING_RETRY_MAX_MS: z.coerce.number().int().min(1000).default(5_000),
  TTS_CACHE_NAMESPACE: ttsCacheNamespaceField,
  /** Silence after speech that ends an utterance. */
  ENDPOINT_HANGOVER_MS: z.coerce.number().int().min(100).default(400),
  ENDPOINT_MIN_SPEECH_MS: z.coerce.number().int().min(20).default(100),
  ENDPOINT_MAX_UTTERANCE_MS: z.coerce.number().int().min(1000).default(15_000),
  /** What ends a turn: the fixed hangover, Smart Turn, or what was heard, asked at each pause. */
  TURN_DETECTOR: z.enum(['silence', 'smart-turn', 'transcript']).default('transcript'),
  /** smart-turn, transcript: silence before the judge is asked. */
  TURN_PROBE_MS: z.coerce.number().int().min(20).default(200),
  /** smart-turn: the longest pause a turn the model calls unfinished is given. */
  TURN_MAX_WAIT_MS: z.coerce.number().int().min(100).default(1500),
  /** smart-turn: end-of-turn probability that ends the turn. */
  TURN_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.5),
  /** The caller's voice activity detector: WebRTC (libfvad) or Silero VAD v6. */
  VAD: z.enum(['webrtc', 'silero']).default('webrtc'),
  BARGE_IN_MIN_MS: z.coerce.number().int().min(20).default(300),
  /** on: a barge-in pauses the reply, and a backchannel or a noise resumes it; off: it cuts. */
  FALSE_INTERRUPTION_RESUME: z.enum(['on', 'off']).default('on'),
  /** Caller speech this long over a paused reply commits the barge-in before recognition. */
  BACKCHANNEL_MAX_MS: z.coerce.number().int().min(100).default(1500),
  /** A paused reply waits this long for the verdict on the caller's sound, then is cut. */
  FALSE_INTERRUPTION_WAIT_MS: z.coerce.number().int().min(100).default(2500),
  /** A recognition over a paused reply less confident than this is noise (0: only silence is). */
  FALSE_INTERRUPTION_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0),
  /** A sound over a paused reply with less voiced audio than this is noise (0: off). */
  FALSE_INTERRUPTION_MIN_VOICED_MS: z.coerce.number().int().min(0).default(100),
  /**
   * An answer to a yes/no question whose words' syllables, at this many ms of voiced audio
   * each, explain less than the voice heard has its confidence scaled down; with
   * LOCAL_STT=auto, the other engine's reading that explains too little is not taken (0: off).
   */
  CLOSED_ANSWER_MS_PER_SYLLABLE: z.coerce.number().int().min(0).default(SYLLABLE_MS),
  /** A keypad pause this long ends an entry; entries longer than 2 keys are masked. */
  DTMF_ENTRY_GAP_MS: z.coerce.number().int().min(100).default(1000),
  /** A turn's reply not back this long: the prerecorded hold line; then another every EVERY. */
  HOLD_LINE_AFTER_MS: z.coerce.number().int().min(500).default(2000),
  HOLD_LINE_EVERY_MS: z.coerce.number().int().min(3000).default(8000),
  /**
   * The local recognizer: the live one without Deepgram, Deepgram's fallback with it. `auto`:
   * pocketsphinx for the answer to a yes/no question, Moonshine for everything else.
   */
  LOCAL_STT: z.enum(['pocketsphinx', 'moonshine', 'whisper', 'auto']).default('pocketsphinx'),
  /** With LOCAL_STT=auto, a request both engines heard unclearly is read by Whisper too (off: not). */
  LOCAL_STT_RECHECK: z.enum(['whisper', 'off']).default('whisper'),
  /**
   * With LOCAL_STT=auto, how long (ms) a request's Moonshine reading is waited for when the
   * grammar's reading of it is clear alone; past it, the grammar's is taken.
   */
  LOCAL_STT_OPEN_WAIT_MS: z.coerce.number().int().min(50).default(250),
  /** Every synthesizer out this long: new calls get the outage notice and a call back. */
  TTS_OUTAGE_AFTER_MS: z.coerce.number().int().min(0).default(60_000),
});

export type EdgeSpeechConfig = z.infer<typeof schema>;

export function loadEdgeSpeechConfig(
  env: Record<string, string | undefined> = process.env,
): EdgeSpeechConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new Error(`Invalid media-edge speech configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
