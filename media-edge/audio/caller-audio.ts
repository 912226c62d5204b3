// The caller-side audio choices the edge is configured with: which VAD hears speech, and
// whether a turn model (rather than a fixed pause) says when a turn is over.
import type { EdgeSpeechConfig } from '../speech-config';
import { SileroVad } from './silero-vad';
import { SmartTurnModel } from './smart-turn';
import { TurnDetector } from './turn-detector';
import { createVad, type Vad } from './vad';

export interface CallerAudio {
  /** A detector for one call. */
  createVad: () => Promise<Vad>;
  turns?: { detector: TurnDetector; probeMs: number; maxWaitMs: number };
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
    createVad: speech.VAD === 'silero' ? () => SileroVad.create() : () => createVad(),
    ...(speech.TURN_DETECTOR === 'smart-turn' && {
      turns: {
        detector: new TurnDetector(new SmartTurnModel(), { threshold: speech.TURN_THRESHOLD, log }),
        probeMs: speech.TURN_PROBE_MS,
        maxWaitMs: speech.TURN_MAX_WAIT_MS,
      },
    }),
  };
}
