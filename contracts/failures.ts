// The failure types activities raise (ApplicationFailure.type) and workflows branch on.
// Providers never use these: they throw ProviderError; activities/errors.ts maps it here.

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

/** Failures a retry cannot mend. */
export const NON_RETRYABLE: string[] = [
  FailureType.BadInput,
  FailureType.PaymentDeclined,
  FailureType.NotFound,
];
