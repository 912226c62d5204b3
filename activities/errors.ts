// The one list of failure types activities throw; workflows branch on these.
import { ApplicationFailure } from '@temporalio/common';
import { EventBusUnavailableError, EventValidationError } from '../providers/ports';

export const FailureType = {
  /** Input that can never succeed: not retried. */
  BadInput: 'BadInput',
  /** The payment was refused (invoice not payable): not retried, the caller is offered an agent. */
  PaymentDeclined: 'PaymentDeclined',
  /** An expected miss (no such customer): benign. */
  NotFound: 'NotFound',
  /** The provider failed or timed out: retried with backoff. */
  ProviderUnavailable: 'ProviderUnavailable',
  /** The provider asked us to slow down (HTTP 429): retried with backoff. */
  RateLimited: 'RateLimited',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE: FailureType[] = [
  FailureType.BadInput,
  FailureType.PaymentDeclined,
  FailureType.NotFound,
];

export function failure(type: FailureType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE.includes(type),
    cause,
  });
}

/** HTTP status from a provider → failure type: 4xx is final except 408/429. */
export function failureForStatus(status: number, message: string): ApplicationFailure {
  if (status === 429) return failure(FailureType.RateLimited, message);
  if (status === 408 || status >= 500) return failure(FailureType.ProviderUnavailable, message);
  if (status === 404) return failure(FailureType.NotFound, message);
  return failure(FailureType.BadInput, message);
}

/**
 * A publishing activity's error as the failure workflows branch on: an invalid event is
 * BadInput (retrying cannot help); an unreachable broker is retried by Temporal with the
 * same deterministic ids.
 */
export function eventFailure(err: unknown): unknown {
  if (err instanceof EventValidationError) return failure(FailureType.BadInput, err.message, err);
  if (err instanceof EventBusUnavailableError) {
    return failure(FailureType.ProviderUnavailable, err.message, err);
  }
  return err;
}
