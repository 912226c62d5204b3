// The post-call workflow's contract, shared by the call workflow (which starts it at
// hang-up), the post-call worker, its activities and tests. Imports only other contracts.
// Names never change once shipped.
import type { IntentName } from './call';

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
  /** The caller accepted a call back (the CRM was away): for the hand-off work. */
  callbackRequested?: boolean;
  /** The call's CRM log, when the call could not write it (the CRM was away): written here. */
  pendingCallLog?: PendingCallLog;
  /** Lines the caller was promised by text (the apology played instead of them): sent here. */
  owedTexts?: OwedTexts;
}

/**
 * The agent's lines no synthesizer could say, owed to the caller by SMS. Each is sent once
 * (idempotency key `<callWorkflowId>:sms:followup:<turnId>`), redacted before it leaves.
 */
export interface OwedTexts {
  /** The call worker's task queue: the telephony activities run there. */
  taskQueue: string;
  /** The caller's number. */
  to: string;
  /** The number the caller dialled: the text comes from it. */
  from: string;
  lines: { turnId: number; text: string }[];
}

export const owedTextKey = (callWorkflowId: string, turnId: number): string =>
  `${callWorkflowId}:sms:followup:${turnId}`;

/** A CRM call log queued by the call workflow, written once by the post-call workflow. */
/** The CRM's record of one call, written once at hang-up (or later, when it was queued). */
export interface CallLog {
  callSid: string;
  customerId?: string;
  callerNumber: string;
  intentPath: IntentName[];
  disposition: string;
  turns: number;
  durationMs: number;
  /** Object key of the two-channel recording (audio calls). */
  recordingKey?: string;
  /** The agent desk user who had the call last (a call taken over by a human). */
  handledBy?: string;
}

export interface PendingCallLog {
  /** The call worker's task queue: the CRM activities run there. */
  taskQueue: string;
  /** The call workflow's key: however often it is tried, one row is written. */
  idempotencyKey: string;
  log: CallLog;
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
  /** The queued call log: its CRM row, or why the CRM refused it (then flagged for review). */
  callLog?: { id: string } | { refused: string };
  /**
   * The owed texts: the turns whose line was sent, those the SMS provider refused for good,
   * or why none was sent (the caller's number cannot take a text).
   */
  owedTexts?: { sent: number[]; refused?: number[]; notSent?: 'number_not_callable' };
}

/**
 * A recording uploaded after its call workflow closed (the object store was away): the edge
 * starts `recording-<CallSid>` on the post-call queue, which puts the key on the CRM call log
 * and runs the post-call analysis on it (`postcall-<CallSid>-recording`).
 */
export const RECORDING_WORKFLOW_TYPE = 'recordingWorkflow';
export const recordingWorkflowId = (callSid: string): string => `recording-${callSid}`;
export const lateAnalysisWorkflowId = (callSid: string): string =>
  `${postCallWorkflowId(callSid)}-recording`;

export interface LateRecordingInput {
  callSid: string;
  /** Object key of the two-channel recording, now in the store. */
  recordingKey: string;
  /** The call worker's task queue: the CRM activities run there. */
  crmTaskQueue: string;
}

export interface AttachRecordingInput {
  callSid: string;
  recordingKey: string;
}

/** The call log the recording was put on: the facts the late analysis starts from. */
export interface AttachedCallLog {
  callLogId: string;
  /** False when the log had this key already (a repeat). */
  changed: boolean;
  customerId?: string;
  disposition: string;
  intents: string[];
  turns: number;
  durationMs: number;
}

export interface LateRecordingResult {
  callSid: string;
  /** The CRM row that has the key, or why none does (then NeedsReview). */
  callLog: { id: string } | { notAttached: string };
  /** The late analysis (its call.analyzed event id). */
  analysis: PostCallResult;
}
