// The caller-side audio choices the edge is configured with: which VAD hears speech, and
// whether a turn judge (Smart Turn, or what was heard) rather than a fixed pause says when a
// turn is over.
import type { EdgeSpeechConfig } from '../speech-config';
import { SileroVad } from './silero-vad';
import { SmartTurnModel } from './smart-turn';
import { TranscriptTurn } from './transcript-turn';
import { TurnDetector, type TurnJudge } from './turn-detector';
import { createVad, type Vad } from './vad';

export interface CallerAudio {
  /** A detector for one call. */
  createVad: () => Promise<Vad>;
  turns?: { judge: TurnJudge; probeMs: number; maxWaitMs: number };
}

type TurnConfig = Pick<
  EdgeSpeechConfig,
  'VAD' | 'TURN_DETECTOR' | 'TURN_PROBE_MS' | 'TURN_MAX_WAIT_MS' | 'TURN_THRESHOLD'
>;

export function callerAudioFromConfig(
  speech: TurnConfig,
  log: (msg: string, fields?: Record<string, unknown>) => void,
): CallerAudio {
  return {
    createVad: speech.VAD === 'silero' ? sileroOrWebRtc(log) : () => createVad(),
    ...(speech.TURN_DETECTOR !== 'silence' && {
      turns: {
        judge:
          speech.TURN_DETECTOR === 'transcript'
            ? new TranscriptTurn()
            : new TurnDetector(new SmartTurnModel(), { threshold: speech.TURN_THRESHOLD, log }),
        probeMs: speech.TURN_PROBE_MS,
        maxWaitMs: speech.TURN_MAX_WAIT_MS,
      },
    }),
  };
}

/**
 * Silero, with WebRTC VAD standing by: a model that cannot load or run leaves the call on
 * WebRTC VAD (logged once per process), never without ears.
 */
function sileroOrWebRtc(log: (msg: string, fields?: Record<string, unknown>) => void) {
  let told = false;
  const fail = (err: unknown) => {
    if (told) return;
    told = true;
    log('Silero VAD failed: calls use WebRTC VAD', {
      error: err instanceof Error ? err.message : String(err),
    });
  };
  return async (): Promise<Vad> => {
    const backup = await createVad();
    try {
      return new VadWithBackup(await SileroVad.create(), backup, fail);
    } catch (err) {
      fail(err);
      return backup;
    }
  };
}

export class VadWithBackup implements Vad {
  private failed = false;

  constructor(
    private readonly primary: Vad,
    private readonly backup: Vad,
    private readonly onFail: (err: unknown) => void,
  ) {}

  isSpeech(frame: Int16Array): boolean {
    // The backup hears every frame too, so it is adapted when it takes over.
    const backup = this.backup.isSpeech(frame);
    if (this.failed) return backup;
    try {
      return this.primary.isSpeech(frame);
    } catch (err) {
      if (err instanceof RangeError) throw err; // a wrong frame is the caller's bug, not the model's
      this.failed = true;
      this.onFail(err);
      return backup;
    }
  }

  reset(): void {
    this.backup.reset();
    if (!this.failed) this.primary.reset();
  }

  close(): void {
    this.primary.close();
    this.backup.close();
  }
}
