// A call served in a degraded mode, for the Web UI: the first time a turn's recognizer or
// answer needed a fallback (a provider failed) or passed a provider over as unhealthy (its
// breaker open), the call's DegradedMode lists `stage:provider`; passed over as unhealthy
// means an outage was on, and NeedsReview gets `provider_outage`. Values already there are
// kept (NeedsReview has other reasons too), and an upsert happens only on a change. Behind
// the patch `degraded-mode`.
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SA_DEGRADED_MODE, SA_NEEDS_REVIEW } from '../../contracts/call';
import type { ProviderAttempt } from '../../contracts/providers';
import { isPatched, PATCHES } from './versions';

export const PROVIDER_OUTAGE = 'provider_outage';

type Attempt = ProviderAttempt & { error?: string };

/** Passed over by provider health (older histories wrote `reason: 'skipped: …'`). */
const passedOver = (a: Attempt) => !a.ok && /^(skipped: )?unhealthy since/.test(a.reason ?? '');

/** Failed when asked (an unconfigured link passed over is not a degradation). */
const failed = (a: Attempt) =>
  !a.ok && a.kind !== 'skipped' && !(a.reason ?? '').startsWith('skipped') && a.kind !== 'aborted';

export function markDegraded(stage: 'asr' | 'llm', attempts: readonly Attempt[]): void {
  const hit = attempts.filter((a) => failed(a) || passedOver(a));
  if (hit.length === 0) return;
  const sa = workflowInfo().typedSearchAttributes;
  const degraded = sa.get(SA_DEGRADED_MODE) ?? [];
  const review = sa.get(SA_NEEDS_REVIEW) ?? [];
  const nextDegraded = union(
    degraded,
    hit.map((a) => `${stage}:${a.provider}`),
  );
  const nextReview = hit.some(passedOver) ? union(review, [PROVIDER_OUTAGE]) : review;
  if (nextDegraded.length === degraded.length && nextReview.length === review.length) return;
  // Decided only where it matters: histories from before never reach an upsert here.
  if (!isPatched(PATCHES.degradedMode)) return;
  upsertSearchAttributes([
    { key: SA_DEGRADED_MODE, value: nextDegraded },
    ...(nextReview.length > review.length ? [{ key: SA_NEEDS_REVIEW, value: nextReview }] : []),
  ]);
}

function union(have: readonly string[], add: readonly string[]): string[] {
  return [...new Set([...have, ...add])];
}
