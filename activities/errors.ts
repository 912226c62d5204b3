// The one place provider errors become Temporal failures: activities throw ApplicationFailures
// whose type (contracts/failures.ts) the workflows branch on and whose retryability the
// retry policies honour.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, NON_RETRYABLE } from '../contracts/failures';
import type { ProviderErrorKind } from '../contracts/providers';
import { PaymentDeclinedError } from '../providers/billing/port';
import { FallbackExhaustedError } from '../providers/fallback';
import { CardDeclinedError } from '../providers/payments/port';
import { ProviderError } from '../providers/provider-error';

export { FailureType, NON_RETRYABLE } from '../contracts/failures';

export function failure(type: FailureType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE.includes(type),
    cause,
  });
}

const TYPE_OF_KIND: Record<ProviderErrorKind, FailureType> = {
  timeout: FailureType.ProviderUnavailable,
  unavailable: FailureType.ProviderUnavailable,
  aborted: FailureType.ProviderUnavailable,
  rate_limited: FailureType.RateLimited,
  bad_input: FailureType.BadInput,
  not_found: FailureType.NotFound,
};

/**
 * An error from provider code as the failure an activity throws: a ProviderError keeps its
 * retryability (a chain's carries its attempts as details); a declined payment or card is
 * PaymentDeclined, final; anything else passes unchanged.
 */
export function toFailure(err: unknown): unknown {
  if (err instanceof PaymentDeclinedError)
    return failure(FailureType.PaymentDeclined, err.message, err);
  if (err instanceof CardDeclinedError)
    return failure(FailureType.PaymentDeclined, `card declined (${err.code})`, err);
  if (!(err instanceof ProviderError)) return err;
  return ApplicationFailure.create({
    type: TYPE_OF_KIND[err.kind],
    message: err.message,
    nonRetryable: !err.retryable,
    cause: err,
    details: err instanceof FallbackExhaustedError ? [err.attempts] : undefined,
  });
}

/** Runs provider code, turning what it throws into the activity's failure. */
export async function asActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toFailure(err);
  }
}

/** A factory's activities, each run through asActivity. */
export function asActivities<A extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: A,
): A {
  const wrapped = Object.entries(activities).map(([name, fn]) => [
    name,
    (...args: never[]) => asActivity(() => fn(...args)),
  ]);
  return Object.fromEntries(wrapped) as A;
}
