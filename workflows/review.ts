// NeedsReview holds every reason a call (or its post-call workflow) wants a person's look;
// a new reason is added to those already there.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';
import { SA_NEEDS_REVIEW } from '../contracts/call';

/** The NeedsReview update that adds `reason` to the reasons already set. */
export function reviewFor(reason: string): SearchAttributeUpdatePair {
  const have = workflowInfo().typedSearchAttributes.get(SA_NEEDS_REVIEW) ?? [];
  return { key: SA_NEEDS_REVIEW, value: have.includes(reason) ? [...have] : [...have, reason] };
}
