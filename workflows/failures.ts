// Reading activity failures in workflow code.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../contracts/failures';

/** The failure type an activity ended with (ApplicationFailure.type), if any. */
export function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return err.cause.type ?? undefined;
  }
  return undefined;
}

/** The activity failed for good (bad input, not found, …): no retry can mend it. */
export const failedForGood = (err: unknown): boolean =>
  NON_RETRYABLE.includes(failureType(err) ?? '');
