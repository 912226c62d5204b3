// The post-call workflow's contract, shared by the call workflow (which starts it at
// hang-up), the post-call worker, its activities and tests. Imports nothing of ours. Names
// never change once shipped.

export const POST_CALL_TASK_QUEUE = 'switchboard-post-call';
export const POST_CALL_WORKFLOW_TYPE = 'postCallWorkflow';
export const postCallWorkflowId = (callSid: string): string => `postcall-${callSid}`;

/** What the call workflow knows at hang-up; no audio, no transcript text (only references). */
export interface PostCallInput {
  callSid: string;
  callWorkflowId: string;
  /** Object key of the two-channel recording (channel 0 caller, 1 agent), when there is one. */
  recordingKey?: string;
  customerId?: string;
  disposition: string;
  /** The intent path, in order. */
  intents: string[];
  turns: number;
  durationMs: number;
  /** Non-primary providers that served some turn, e.g. `tts:flite`. */
  fallbacks: string[];
  /** Caller turns below the confidence gate. */
  lowConfidenceTurns: number;
  transferred: boolean;
  /** Knowledge answers the checks refused (ungrounded), when the call workflow counted them. */
  refusedAnswers?: number;
}

/** The transcript's reference, as it goes into history: never its text. */
export interface TranscriptRef {
  key: string;
  provider: string;
  words: number;
  /** False when an earlier attempt had stored it already (the conditional put kept that one). */
  created: boolean;
}

export interface CallSummary {
  /** Short (at most SUMMARY_MAX_CHARS), redacted. */
  summary: string;
  disposition: string;
  /** `template` when no language model served (the deterministic summary). */
  provider: string;
}

export const SUMMARY_MAX_CHARS = 300;

export interface PostCallResult {
  callSid: string;
  transcript?: TranscriptRef;
  /** Why there is no transcript: no recording, or the recording could not be read. */
  transcriptMissing?: 'no_recording' | 'transcription_failed';
  summary: CallSummary;
  qaFlags: string[];
  /** Id of the published call.analyzed event. */
  eventId: string;
  /** The call's personal TTS cache entries removed (patch `forget-call-speech`). */
  speechForgotten?: number;
}
