// Timeouts and retry policies of the call workflow's activities, in one place.
// Reads and classification are local activities: fast, and a turn must not wait for
// extra server round trips. Writes are regular activities: durable, visible in history
// and retried until they land (each carries an idempotency key).
import { type ActivityOptions, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CallActivities } from '../activities/call-activities';
import type { EdgeActivities } from '../activities/edge-activities';
import type { AnswerActivities } from '../activities/answer-activities';
import type { EventActivities } from '../activities/event-activities';

/** Failures a retry cannot mend. */
export const NON_RETRYABLE = ['BadInput', 'PaymentDeclined', 'NotFound'];

export const fast = proxyLocalActivities<
  Pick<CallActivities, 'understandTurn' | 'identifyCaller' | 'getBalance'>
>({
  startToCloseTimeout: '3s',
  retry: {
    initialInterval: '100ms',
    backoffCoefficient: 2,
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** A payment write: a few quick retries, then the caller hears it failed. */
export const PAYMENT_WRITE: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '5s',
    maximumAttempts: 6,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

export const payments = proxyActivities<Pick<CallActivities, 'payInvoice'>>(PAYMENT_WRITE);

export const records = proxyActivities<Pick<CallActivities, 'writeCallLog'>>({
  startToCloseTimeout: '10s',
  // Unlimited attempts: the call log must land even if the CRM is down for a while.
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** The edge host holding the call's socket; its queue comes from the streamStarted update. */
export const edgeHost = (taskQueue: string) =>
  proxyActivities<EdgeActivities>({
    taskQueue,
    startToCloseTimeout: '10s',
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
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});
