// Timeouts and retry policies of every workflow's activities, in one place: the call
// workflow, its payment saga and the post-call workflow.
// Reads and classification are local activities: fast, and a turn must not wait for
// extra server round trips. Writes are regular activities: durable, visible in history
// and retried until they land (each carries an idempotency key).
import { type ActivityOptions, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CallActivities } from '../activities/call-activities';
import type { EdgeActivities } from '../activities/edge-activities';
import type { AnswerActivities } from '../activities/answer-activities';
import type { EventActivities } from '../activities/event-activities';
import type { PaymentActivities } from '../activities/payment-activities';
import type { PostCallActivities } from '../activities/post-call-activities';
import type { RecordingActivities } from '../activities/recording-activities';
import type { TelephonyActivities } from '../activities/telephony-activities';
import { FailureType, NON_RETRYABLE } from '../contracts/failures';

/** Retried without limit, backing off to a minute: for what must land in the end. */
const UNTIL_IT_LANDS: NonNullable<ActivityOptions['retry']> = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  nonRetryableErrorTypes: NON_RETRYABLE,
};

// --- the call workflow -----------------------------------------------------------------

/**
 * Who is calling, before the greeting: a few quick tries bounded to 4 s in all, then the call
 * goes on unidentified (a CRM that hangs must not hold the caller in silence).
 */
export const identify = proxyLocalActivities<Pick<CallActivities, 'identifyCaller'>>({
  startToCloseTimeout: '2s',
  scheduleToCloseTimeout: '4s',
  retry: {
    initialInterval: '100ms',
    backoffCoefficient: 2,
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

export const fast = proxyLocalActivities<Pick<CallActivities, 'understandTurn' | 'getBalance'>>({
  startToCloseTimeout: '3s',
  retry: {
    initialInterval: '100ms',
    backoffCoefficient: 2,
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** A payment write: a few quick retries, then the caller hears it failed. */
const PAYMENT_WRITE: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '5s',
    maximumAttempts: 6,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

/** The payment before the saga (histories recorded before it). */
export const payments = proxyActivities<Pick<CallActivities, 'payInvoice'>>(PAYMENT_WRITE);

/** The call log before patch `call-log-queued`: retried in the call until it lands. */
export const records = proxyActivities<Pick<CallActivities, 'writeCallLog'>>({
  startToCloseTimeout: '10s',
  retry: UNTIL_IT_LANDS,
});

/**
 * The call log at hang-up: a few tries, bounded in time, then it is queued in the post-call
 * workflow (CRM away) or flagged (refused for good): the call itself never fails for it.
 */
export const callLogTries = proxyActivities<Pick<CallActivities, 'writeCallLog'>>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** The edge host holding the call's socket; its queue comes from the streamStarted update. */
export const edgeHost = (taskQueue: string) =>
  proxyActivities<EdgeActivities>({
    taskQueue,
    // A line resolves once played, as long as it is: the heartbeat, not its length, tells a
    // host that is gone.
    startToCloseTimeout: '2m',
    heartbeatTimeout: '5s',
    // The host may be gone (the call dropped with it): a few tries, then carry on.
    retry: { initialInterval: '500ms', maximumAttempts: 3 },
  });

/** Grounded answers for text calls, on the call worker. One retry: an answer is a read. */
export const answers = proxyActivities<AnswerActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Grounded answers for audio calls: generated on the edge host and spoken sentence by
 * sentence as they come. Never retried: a retry would say the answer twice.
 */
export const edgeAnswer = (taskQueue: string) =>
  proxyActivities<Pick<EdgeActivities, 'answerOnCall'>>({
    taskQueue,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 1 },
  });

/**
 * Events to Kafka. Awaited by no turn; unlimited attempts: while the broker is away each
 * attempt waits out the adapter's deadline, and the same ids are sent again when it is back.
 */
export const events = proxyActivities<EventActivities>({
  startToCloseTimeout: '3m',
  heartbeatTimeout: '10s',
  retry: UNTIL_IT_LANDS,
});

/**
 * The live call handed to a human: the caller is on hold meanwhile, so a few quick tries
 * (a retry looks for what the first try made), then the caller is told and called back instead.
 */
export const handoff = proxyActivities<
  Pick<TelephonyActivities, 'transferCall' | 'warmTransfer' | 'sayAndHangUp'>
>({
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '2s',
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

// --- the callback workflow -----------------------------------------------------------------

/**
 * The text and the callback nobody waits on: retried for about half an hour (backing off to a
 * minute, same key each time), bad input stops them at once.
 */
export const callbacks = proxyActivities<Pick<TelephonyActivities, 'sendSms' | 'placeCallback'>>({
  startToCloseTimeout: '10s',
  retry: { ...UNTIL_IT_LANDS, maximumAttempts: 30 },
});

// --- the payment saga --------------------------------------------------------------------

/** Forward steps: a few retries, then the saga compensates and the caller hears it failed. */
export const sagaSteps =
  proxyActivities<Pick<PaymentActivities, 'reservePayment' | 'chargePayment'>>(PAYMENT_WRITE);

/** The commit, after money moved: tried harder than the other steps before a refund. */
export const sagaCommit = proxyActivities<Pick<CallActivities, 'payInvoice'>>({
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Compensations must land: retried until they do (each is idempotent; only bad input stops them). */
export const sagaCompensations = proxyActivities<
  Pick<PaymentActivities, 'releasePayment' | 'refundPayment'>
>({
  startToCloseTimeout: '10s',
  retry: { ...UNTIL_IT_LANDS, initialInterval: '500ms', nonRetryableErrorTypes: ['BadInput'] },
});

// --- the post-call workflow ----------------------------------------------------------------

/**
 * Recognising a long recording takes a while: heartbeats show it is alive, and a retry
 * after a worker crash starts over (nothing was stored until the end).
 */
export const postCallBatch = proxyActivities<
  Pick<PostCallActivities, 'transcribeRecording' | 'summarizeCall'>
>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

export const postCallQuick = proxyActivities<
  Pick<PostCallActivities, 'flagCall' | 'forgetCallSpeech'>
>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * A call log the call could not write (CRM away), on the call worker's queue where the CRM
 * activities run: retried until the CRM is back; its idempotency key writes it once.
 */
export const pendingCallLog = (taskQueue: string) =>
  proxyActivities<Pick<CallActivities, 'writeCallLog'>>({
    taskQueue,
    startToCloseTimeout: '10s',
    retry: UNTIL_IT_LANDS,
  });

/**
 * A text the call promised (a line the apology replaced), on the call worker's queue where
 * the telephony activities run: retried until it lands (one key per turn: sent once); bad
 * input stops it at once.
 */
export const owedTexts = (taskQueue: string) =>
  proxyActivities<Pick<TelephonyActivities, 'sendSms'>>({
    taskQueue,
    startToCloseTimeout: '10s',
    retry: UNTIL_IT_LANDS,
  });

/** The analytics event must land: retried until the broker is back (same id every time). */
export const postCallPublishing = proxyActivities<
  Pick<PostCallActivities, 'publishCallAnalyzed' | 'publishCallLogStatus'>
>({
  startToCloseTimeout: '3m',
  retry: UNTIL_IT_LANDS,
});

// --- the late-recording workflow ----------------------------------------------------------

/**
 * A late recording's key onto its CRM call log, on the call worker's queue where the CRM
 * activities run. NotFound (no log yet: still queued while the CRM is away) is retried like
 * an outage, for up to a week; only a log that names another recording stops it at once.
 */
export const lateRecordingCrm = (taskQueue: string) =>
  proxyActivities<Pick<RecordingActivities, 'attachRecording'>>({
    taskQueue,
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '7d',
    retry: { ...UNTIL_IT_LANDS, nonRetryableErrorTypes: [FailureType.BadInput] },
  });
