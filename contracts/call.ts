// The call workflow's contract: its messages, payload types and search attributes, shared
// by the workflow, the media edge, the workers, the simulator and tests. Imports nothing of
// ours (only the Temporal SDK's definers). Names never change once shipped: they are in
// recorded histories.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EventDraft } from './events';
import type { ProviderAttempt } from './providers';

export const CALL_TASK_QUEUE = 'switchboard-calls';
export const callWorkflowId = (callSid: string): string => `call-${callSid}`;
/** One callback per call: its workflow id is the call's, so a second request is the same one. */
export const callbackWorkflowId = (callSid: string): string => `callback-${callSid}`;

/** The state machine's state (workflows/call-state.ts): carried across continue-as-new, and
 * returned by the `state` query. */
export type Phase =
  | 'greeting'
  | 'idle'
  | 'confirm_payment'
  | 'offer_agent'
  | 'offer_callback'
  /** The caller could not be heard three times: a call back (yes) or an agent (no). */
  | 'offer_callback_or_agent'
  /** A question the knowledge base could not be searched for: a call back when it can (yes/no). */
  | 'offer_callback_later'
  | 'ended';

/** A bill still open on the caller's account. */
export interface OpenInvoiceView {
  invoiceId: string;
  amountCents: number;
  dueDate: string;
}

/** The caller's account as the flows read it. */
export interface BalanceView {
  balanceCents: number;
  openInvoice?: OpenInvoiceView;
}

export interface CallState {
  phase: Phase;
  customer?: { id: string; name: string };
  /**
   * The account as read when the call began, only so that its sentences can be synthesized
   * before they are asked for (every flow reads the account again); forgotten after a payment.
   */
  accountAhead?: BalanceView;
  /** The invoice the caller is asked to confirm paying. */
  pendingPayment?: OpenInvoiceView;
  /** Consecutive no-input timeouts; reset by any caller input. */
  silences: number;
  /** Consecutive turns not understood; the third one escalates to an agent. */
  misses: number;
  turns: number;
  intentPath: IntentName[];
  disposition?: Disposition;
  /** The CRM could not be reached when the call began: the caller is not identified. */
  crmUnavailable?: boolean;
  /**
   * A call back is owed: the caller accepted one (the CRM was away, they could not be heard)
   * or no answer could be produced. Scheduled once, at the call's end.
   */
  callbackRequested?: boolean;
  /** Why the call back is owed: the callback workflow's reason. */
  callbackReason?: CallbackReason;
  /** A yes to the payment was doubted and asked again: the next clear yes pays. */
  yesDoubted?: boolean;
  /** The last reply asked "Is there anything else I can help you with?": a no ends the call. */
  anythingElseAsked?: boolean;
}

export type CallbackReason =
  | 'account_unavailable'
  | 'no_grounded_answer'
  | 'asr_failed'
  /** Every synthesizer of the edge was out: the caller heard the outage notice only. */
  | 'tts_outage'
  /** The knowledge base could not be searched; the caller accepted a call back about it. */
  | 'no_retrieval';

export type IntentName =
  | 'check_balance'
  | 'pay_bill'
  | 'confirm_yes'
  | 'confirm_no'
  | 'talk_to_agent'
  | 'goodbye'
  | KbIntentName
  | 'out_of_scope';

/** Questions the knowledge base answers, one intent per topic (the retrieval filter). */
export const KB_INTENTS = {
  ask_billing: 'billing',
  ask_plans: 'plans',
  ask_outage: 'outages',
  ask_policy: 'policies',
} as const;
export type KbIntentName = keyof typeof KB_INTENTS;
export const isKbIntent = (name: string): name is KbIntentName => name in KB_INTENTS;

export interface Intent {
  name: IntentName;
  confidence: number;
}

/** One final utterance from the edge. Audio never enters history, only its text. */
export interface Utterance {
  /** Per-call, strictly increasing turn id assigned by the edge. */
  turnId: number;
  text: string;
  /** ASR confidence in [0, 1]; 1 for typed text. */
  confidence: number;
  timings?: { speechStartMs?: number; speechEndMs?: number; asrMs?: number };
  /** Which recognizer served this utterance and why others did not; no servedBy = none could. */
  asr?: AsrRecord;
}

export interface AsrRecord {
  servedBy?: string;
  /** Histories recorded before the one attempt record hold `{provider, ok, error?, ms?}`. */
  attempts: ProviderAttempt[];
}

/** The caller spoke over the agent: the edge cleared the playback of this turn's reply. */
export interface BargeIn {
  turnId: number;
  /** How much of the reply the caller heard before the clear. */
  heardMs: number;
}

/**
 * A keypad entry. Entries longer than two keys could be a PIN, CVV or card number: the
 * edge sends only their length (digits empty), so the digits never reach history.
 */
export interface Dtmf {
  turnId: number;
  digits: string;
  maskedLength?: number;
}

export type ReplyAction = 'continue' | 'transfer' | 'hangup';

export interface Reply {
  /** The turn this reply answers; 0 for the greeting. */
  turnId: number;
  text: string;
  action: ReplyAction;
  intent?: Intent;
  /** Phrases the caller is likely to say next: hints for the edge's recognizer. */
  hints?: string[];
  /** The reply asks a yes/no question: the caller's next words are most likely an answer. */
  expectsAnswer?: boolean;
  /** The reply the likely answer leads to (a yes to pay): the edge may synthesize it ahead. */
  likelyNext?: string;
  /** The first this many characters of text were already played (a streamed answer). */
  spokenChars?: number;
}

export type TwilioCallStatus =
  'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';

export const TERMINAL_CALL_STATUSES: readonly TwilioCallStatus[] = [
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
];

export interface CallConfig {
  /** Below this (min of ASR and intent confidence) the caller is asked to repeat. */
  confidenceThreshold: number;
  /** A spoken yes that would pay needs this recognizer confidence, else it is asked again. */
  paymentConfirmThreshold?: number;
  /** Silence after the agent spoke before re-prompting (once), then ending the call. */
  noInputTimeoutMs: number;
  /** After an audio call ends, how long to wait for the edge's recording before the call log. */
  recordingWaitMs: number;
  /** The human agents' queue number: a transfer dials it through Twilio (none: the call ends). */
  agentQueueNumber?: string;
  /** The edge's `<Dial action>` URL, told the transfer's outcome (no-answer, busy, …). */
  dialStatusUrl?: string;
  /** cold: the caller is dialled through; warm: the caller holds, the agent hears a summary first. */
  transferMode?: 'cold' | 'warm';
  /** The edge's status callback for a warm transfer's agent leg (its final status). */
  agentStatusUrl?: string;
  /** How long the agents' line rings before the caller is offered a callback. */
  transferRingTimeoutInS: number;
  /** How long after a missed hand-off the caller is called back. */
  callbackDelayMs: number;
  /**
   * Who takes a transferred call: 'twilio' dials the agents' queue; 'desk' keeps the call on
   * the edge and waits for an agent of the agent desk to accept it (absent: twilio).
   */
  handoffTarget?: HandoffTarget;
  /** How long a call waits on the desk for an agent before the caller is offered a callback. */
  deskAnswerTimeoutMs?: number;
  /** While a call waits on the desk, the caller hears "Thanks for holding…" this often. */
  deskHoldReminderMs?: number;
}

/** A call on the desk waits this long for an agent unless its config says otherwise. */
export const DEFAULT_DESK_ANSWER_TIMEOUT_MS = 60_000;
export const DEFAULT_DESK_HOLD_REMINDER_MS = 20_000;

export type HandoffTarget = 'twilio' | 'desk';

/** CALL_PAYMENT_CONFIRM_CONFIDENCE's default, also for calls whose config predates it. */
export const DEFAULT_PAYMENT_CONFIRM_THRESHOLD = 0.9;

export const DEFAULT_CALL_CONFIG: CallConfig = {
  recordingWaitMs: 30_000,
  confidenceThreshold: 0.5,
  paymentConfirmThreshold: DEFAULT_PAYMENT_CONFIRM_THRESHOLD,
  noInputTimeoutMs: 10_000,
  transferRingTimeoutInS: 30,
  callbackDelayMs: 5 * 60_000,
};

export interface TranscriptEntry {
  /** Monotonic sequence within the call (survives continue-as-new). */
  seq: number;
  speaker: 'caller' | 'agent';
  turnId: number;
  text: string;
  intent?: Intent;
  /** Why the agent spoke when not answering a turn: reprompt on silence, a desk hand-off line, etc. */
  reason?: 'greeting' | 'reply' | 'no_input' | 'end' | 'handoff';
  /** Set on an agent line the caller talked over. */
  interrupted?: { heardMs: number };
  /** A knowledge-base answer: who produced it, from which documents, refused or not. */
  answer?: {
    servedBy: string;
    refused?: string;
    documentIds: string[];
    fallbacks: string[];
    firstSentenceMs?: number;
  };
}

/** Twilio caller metadata (/v2 webhooks only); untrusted data. */
export interface CallMetadata {
  callerName?: string;
  fromCity?: string;
  fromState?: string;
  fromCountry?: string;
  forwardedFrom?: string;
}

export interface CallInput {
  callSid: string;
  from: string;
  to: string;
  /** From the /v2 webhook; carried across continue-as-new with the rest of the input. */
  metadata?: CallMetadata;
  config?: Partial<CallConfig>;
  /** Present only when continued-as-new: the compact state of the previous run. */
  carried?: CarriedState;
}

/** What a continued run needs; kept small because it is in every new run's input. */
export interface CarriedState {
  state: CallState;
  transcriptTail: TranscriptEntry[];
  recentReplies: Reply[];
  lastTurnId: number;
  nextSeq: number;
  runs: number;
  stream?: StreamInfo;
  /** Transcript entries up to this seq are published; later runs go on from there. */
  publishedSeq?: number;
  /** Event batches the previous run had not seen delivered: sent again (same ids). */
  unpublished?: EventDraft[];
}

export type Disposition =
  'resolved' | 'transferred' | 'abandoned' | 'caller_hung_up' | 'not_answered';

export interface CallResult {
  callSid: string;
  disposition: Disposition;
  turns: number;
  intentPath: IntentName[];
  durationMs: number;
  /** The CRM call log row; absent while it is pending or when the CRM refused it. */
  callLogId?: string;
  /** The CRM was away at hang-up: the call log is queued in the post-call workflow. */
  callLogPending?: true;
  /** Why the call needs a person's look, e.g. the CRM refused its call log for good. */
  needsReview?: string;
  callbackRequested?: true;
  recording?: RecordingRef;
  /** The agent desk user who had the call last. */
  handledBy?: string;
}

// Why each message kind is a signal or an update:
// - utterance / dtmf are *updates*: the edge needs the reply back to speak it, an
//   update returns it on the same round trip, its validator rejects malformed input
//   before it reaches history, and its update id (`turn-<turnId>`) makes the server
//   de-duplicate a repeated send within the run (the workflow also de-duplicates by
//   turn id across continue-as-new).
// - streamStarted is an update for the same reason: it returns the greeting.
// - callStatus is a *signal*: Twilio's status callback expects nothing back and must
//   be accepted even while a turn is in progress.
export const streamStartedUpdate = defineUpdate<Reply, [StreamInfo]>('streamStarted');

/** Where the call's audio is: the edge host's task queue for host-bound activities. */
export interface StreamInfo {
  streamSid?: string;
  edgeTaskQueue?: string;
  /**
   * Every synthesizer of the edge has been out (breaker open) for TTS_OUTAGE_AFTER_MS: a call
   * not yet greeted gets the outage notice and a call back instead of a conversation.
   */
  ttsOutage?: boolean;
}
export const utteranceUpdate = defineUpdate<Reply, [Utterance]>('utterance');
export const dtmfUpdate = defineUpdate<Reply, [Dtmf]>('dtmf');
export const callStatusSignal = defineSignal<[TwilioCallStatus]>('callStatus');
// A signal: the edge has already acted (cleared the audio); it only informs the record.
export const bargeInSignal = defineSignal<[BargeIn]>('bargeIn');
/** Where one answered turn's time went on the edge (sent after its first audio frame). */
export interface TurnTimingReport {
  turnId: number;
  endpointingMs: number;
  asrMs: number;
  orchestrationMs: number;
  ttsMs: number;
  firstFrameMs: number;
  voiceToVoiceMs: number;
  cacheHit: boolean;
  /** The TTS provider that synthesized the turn's speech (absent when all of it was cached). */
  ttsProvider?: string;
  /** Characters sent to that provider for the turn (cache hits cost nothing). */
  ttsCharacters?: number;
  /**
   * No synthesizer voiced some of the turn: 'pieces' when prerecorded words said it all,
   * 'apology' when a sentence could not be said and the apology played instead.
   */
  spokenAs?: 'pieces' | 'apology';
  /** A sentence of the turn was not said (the apology promised it): the reply is owed by SMS. */
  smsFollowUp?: boolean;
}
export const turnTimingSignal = defineSignal<[TurnTimingReport]>('turnTiming');

/** How the transfer's `<Dial>` ended (Twilio's DialCallStatus, from the edge's webhook). */
export type DialCallStatus =
  'completed' | 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';
/** Nobody took the transfer: the caller is called back. */
export const MISSED_DIAL_STATUSES: readonly DialCallStatus[] = ['busy', 'no-answer', 'failed'];
export const dialStatusSignal = defineSignal<[DialCallStatus]>('dialStatus');

/** What a caller no human could take hears, from the workflow or the edge's dial webhook. */
export const NO_AGENT_CALLBACK =
  'Sorry, no agent is free to take your call right now. We will call you back shortly. Goodbye.';
/** The same for a caller who cannot be called back (anonymous, sip:, client:). */
export const NO_AGENT_CALL_LATER =
  'Sorry, no agent is free to take your call right now. Please call again later. Goodbye.';
/** Only a phone number (E.164) can be called back. */
export const isCallableNumber = (n: string): boolean => /^\+[1-9][0-9]{6,14}$/.test(n);
export const noAgentLine = (callerNumber: string): string =>
  isCallableNumber(callerNumber) ? NO_AGENT_CALLBACK : NO_AGENT_CALL_LATER;

/** A call back to a caller no human could take, after a delay (workflows/callback.ts). */
export interface CallbackInput {
  callSid: string;
  /** The call's workflow id: the idempotency keys of the text and the call derive from it. */
  callWorkflowId: string;
  /** The caller's number. */
  to: string;
  /** The number they called (the callback and text come from it). */
  from: string;
  /** The agents' queue the answered callback is connected to. */
  connectTo: string;
  delayMs: number;
  /** Why: a transfer that failed, or the dial's status. */
  reason: string;
}

/**
 * The callback owed to the caller of `call`: from the call workflow (a missed hand-off) and
 * from the edge (a missed dial reported after the call workflow ended) alike.
 */
export const callbackInput = (
  call: Pick<CallInput, 'callSid' | 'from' | 'to'>,
  callWorkflowId: string,
  connectTo: string,
  delayMs: number,
  reason: string,
): CallbackInput => ({
  callSid: call.callSid,
  callWorkflowId,
  to: call.from,
  from: call.to,
  connectTo,
  delayMs,
  reason,
});

/** The call's two-channel recording is in the object store (sent by the edge at hang-up). */
export const recordingReadySignal = defineSignal<[RecordingRef]>('recordingReady');

export interface RecordingRef {
  /** The recordings bucket (absent from edges that predate it). */
  bucket?: string;
  key: string;
  durationMs: number;
  truncated: boolean;
}

export const transcriptQuery = defineQuery<TranscriptEntry[]>('transcript');
export const stateQuery = defineQuery<LiveState>('state');

export interface LiveState {
  callSid: string;
  /** The caller's number (agents call back and look people up by it). */
  caller?: string;
  /** Who calls and what they asked (what an agent reads before taking the call). */
  summary?: string;
  /** The hand-off to the agent desk, once the call was transferred there. */
  handoff?: DeskHandoffView;
  state: CallState;
  lastTurnId: number;
  turns: number;
  lastReply?: Reply;
  ended: boolean;
  disposition?: Disposition;
  runs: number;
  stream?: StreamInfo;
  recording?: RecordingRef;
}

/**
 * A call on the agent desk: 'waiting' for an agent, 'with_human' (the AI listens, does not
 * answer), 'handed_back' to the AI, 'missed' (nobody took it: callback), 'ended' by the agent.
 */
export type HumanHandoff = 'waiting' | 'with_human' | 'handed_back' | 'missed' | 'ended';

export interface DeskHandoffView {
  status: HumanHandoff;
  /** The agent who took the call (the last one, after a hand back). */
  agent?: string;
  /** Epoch ms the call began waiting, and the agent took it. */
  waitingSince: number;
  acceptedAt?: number;
}

/** Who acts on the desk: the signed-in user's name. */
export interface DeskAgent {
  agent: string;
}

// Updates, so the desk hears back at once whether it worked: the validators reject an accept
// of a call not waiting or already taken (two agents at once: one wins), and a hand back or
// end from anyone but the agent who holds the call.
export const acceptHandoffUpdate = defineUpdate<DeskHandoffView, [DeskAgent]>('acceptHandoff');
export const handBackUpdate = defineUpdate<DeskHandoffView, [DeskAgent]>('handBack');
export const endCallUpdate = defineUpdate<DeskHandoffView, [DeskAgent]>('endCall');

export const utteranceUpdateId = (turnId: number): string => `turn-${turnId}`;

// Search attributes for ops (declared in temporal.yaml; names are part of the contract).
/** A keyed hash of the caller's number (infra/caller-index.ts), never the number. */
export const SA_CALLER_NUMBER = defineSearchAttributeKey('CallerNumber', 'KEYWORD');
/** The call's memo key for the caller's number: encrypted with the rest of the history. */
export const CALLER_MEMO = 'caller';
export const SA_CUSTOMER_ID = defineSearchAttributeKey('CustomerId', 'KEYWORD');
export const SA_LAST_INTENT = defineSearchAttributeKey('LastIntent', 'KEYWORD');
export const SA_DISPOSITION = defineSearchAttributeKey('Disposition', 'KEYWORD');
export const SA_TURN_COUNT = defineSearchAttributeKey('TurnCount', 'INT');
/** True while the call's CRM log waits for the CRM (call and post-call workflows). */
export const SA_CALL_LOG_PENDING = defineSearchAttributeKey('CallLogPending', 'BOOL');
/**
 * Providers that failed or were passed over on a turn of the call, `stage:provider`
 * (`llm:openai`, `asr:deepgram`): the call was served in a degraded mode.
 */
export const SA_DEGRADED_MODE = defineSearchAttributeKey('DegradedMode', 'KEYWORD_LIST');
/** Why the call should be reviewed: `provider_outage` (served while a breaker was open), `call_log_refused` … */
export const SA_NEEDS_REVIEW = defineSearchAttributeKey('NeedsReview', 'KEYWORD_LIST');
/** Where the call stands with the agent desk (HumanHandoff): 'waiting' lists it for agents. */
export const SA_HUMAN_HANDOFF = defineSearchAttributeKey('HumanHandoff', 'KEYWORD');
