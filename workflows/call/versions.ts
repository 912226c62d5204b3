// Every version decision of the call workflow, in one place. A patch id never changes once
// shipped: it is in the histories of the calls that took its branch.
//
// Live patches: `patched(id)` keeps the old branch for histories recorded before the patch
// (each is reached by a history under test/histories, which must replay).
// Deprecated patches: `deprecatePatch(id)` still writes the marker, but the old branch is
// gone. Only for patches whose old branch no live call can need (calls last minutes; these
// shipped long before) and no recorded history reaches: a history without the marker then
// runs the new branch on replay, which is safe only where both branches issue the same
// commands for it. The next step, once no running call holds the marker, removes the call.
import { deprecatePatch, patched } from '@temporalio/workflow';

export const PATCHES = {
  /** Events to Kafka and the post-call workflow (decided once per run). */
  dataPlane: 'data-plane',
  /** Events sent in batches, at most one in the background per interval (once per run). */
  eventBatches: 'event-batches',
  /** A payment is a saga: reserve → charge → commit, compensated after a failure. */
  paymentSaga: 'payment-saga',
  /** Re-prompts after silence spoken by the edge host (an activity on its queue). */
  edgeSpeaksUnprompted: 'edge-speaks-unprompted',
  /** An audio call waits (bounded) for its recording before the call log. */
  awaitRecording: 'await-recording',
  /**
   * The CRM away: an identify that fails goes on unidentified, an account read that fails
   * offers a call back (before: the call failed, or an agent was offered).
   */
  crmUnavailable: 'crm-unavailable',
  /**
   * The call log is tried a bounded number of times; then it is queued in the post-call
   * workflow (CRM away) or flagged for review (refused for good). Before: retried without
   * end, and a refusal failed the call.
   */
  callLogQueued: 'call-log-queued',
  /** DegradedMode / NeedsReview search attributes from a turn's provider attempts. */
  degradedMode: 'degraded-mode',
  /** A transfer hands the live call to the agents' queue through Twilio (before: the call ended). */
  telephonyHandoff: 'telephony-handoff',
  /** Lines replaced by the apology are sent by SMS from the post-call workflow (before: never). */
  owedTexts: 'owed-texts',
  /** A call back the caller accepted is scheduled at the call's end (before: only recorded). */
  callbackOnRequest: 'callback-on-request',
  /**
   * No answer could be produced: the temporary-issue line, a callback, NeedsReview (before:
   * an agent was offered).
   */
  noGroundedAnswer: 'no-grounded-answer',
  /** Three failed recognitions in a row offer a call back or an agent (before: an agent). */
  asrFailedOffer: 'asr-failed-offer',
  /**
   * A missed dial outcome that comes after the hand-off stopped waiting (the call still
   * finishing) schedules the callback (before: ignored).
   */
  lateDialOutcome: 'late-dial-outcome',
  /**
   * The edge reports every synthesizer out at stream start: a call not yet in conversation
   * hears the outage notice, is called back and ends (before: the greeting, a conversation).
   */
  ttsOutageNotice: 'tts-outage-notice',
  /**
   * A question answered with the no-retrieval general line also offers a call back to a
   * caller who can be called (before: the general line alone).
   */
  noRetrievalCallbackOffer: 'no-retrieval-callback-offer',
  /**
   * With the agent desk as hand-off target, a transfer waits on the desk for an agent (before:
   * Twilio's path, which ends the call without an agents' queue number).
   */
  deskHandoff: 'desk-handoff',
  /**
   * A reply asking a yes/no question says so, and the edge hears the answer with the
   * recognizer best at closed answers (before: the reply did not say).
   */
  answerExpected: 'answer-expected',
  /**
   * A reply whose likely answer leads to a reply already known (the payment made) carries
   * it, for the edge to synthesize ahead (before: the reply did not).
   */
  likelyNextReply: 'likely-next-reply',
  /**
   * A caller's account read with them when the call begins: while no question is open, the
   * replies carry its balance and bill sentences for the edge to synthesize ahead (before:
   * the account was read only when asked for).
   */
  accountLinesAhead: 'account-lines-ahead',
  /**
   * A spoken yes that would pay is taken only at the payment confidence (below it: asked again,
   * the keypad offered), and yes/no questions listen for "not now", "hold on" and the like
   * (before: a yes at the ordinary threshold paid; those were forced onto the answers).
   */
  paymentYesChecked: 'payment-yes-checked',
  /**
   * A wait for the caller that began before the call's audio stream started begins again
   * once it has, so silence counts from the greeting as played (before: from the call's
   * start, which cut the first silence short by the greeting and the stream's delay).
   */
  silenceFromStream: 'silence-from-stream',
  /**
   * A no to "Is there anything else I can help you with?" says goodbye and ends the call,
   * resolved (before: "How can I help you today?", as to a no with no question open).
   */
  noEndsCall: 'no-ends-call',
  /**
   * A goodbye to the payment question is taken as a no: "Okay, I have not made any payment.
   * Is there anything else …?" (before: the question was asked again).
   */
  goodbyeDeclinesPayment: 'goodbye-declines-payment',
  /**
   * Yes/no questions listen for answers said in words ("yes, that's correct", "that's not
   * right") as well (before: only "yes", "no" and the like).
   */
  wordedAnswers: 'worded-answers',
} as const;

export const DEPRECATED_PATCHES = {
  /** Knowledge-base intents are answered (before, they were out of scope). */
  groundedAnswers: 'grounded-answers',
  /** An out-of-scope request at high confidence is re-asked with what the agent can do. */
  outOfScopeReasks: 'out-of-scope-reasks',
  /** Silence counts from the end of what the agent is saying on an audio call. */
  noInputAfterPlayback: 'no-input-after-playback',
} as const;

export type PatchId = (typeof PATCHES)[keyof typeof PATCHES];
export type DeprecatedPatchId = (typeof DEPRECATED_PATCHES)[keyof typeof DEPRECATED_PATCHES];

export const isPatched = (id: PatchId): boolean => patched(id);

/** Marks where a deprecated patch was decided; the new branch always runs. */
export const deprecated = (id: DeprecatedPatchId): void => deprecatePatch(id);
