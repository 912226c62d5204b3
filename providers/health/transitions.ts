// A breaker's moves as ops see them (closed → open, open → half-open, half-open → closed or
// open again), found by comparing the state before and after one write. The process whose
// compare-and-set wrote the move (or whose SET NX won the probe) is the only one told, so the
// fleet reports each move once.
import type { ProviderAttempt } from '../../contracts/providers';
import type { BreakerState, HealthView } from './policy';

export interface HealthTransition {
  /** `family:name`. */
  provider: string;
  from: HealthView;
  to: HealthView;
  /** When the move happened (ms). */
  at: number;
  /** The breaker after the move. */
  state: BreakerState;
}

/** A chain's request that did not go to its first provider, as the gate is told it. */
export interface FallbackNote {
  family: string;
  /** Every attempt of the request, skipped providers included, in order. */
  attempts: readonly ProviderAttempt[];
  servedBy?: string;
  at: number;
}

/** Told of the fleet's moves this process made and of its chains' fallbacks. */
export interface HealthObserver {
  transition(t: HealthTransition): void;
  fellBack(note: FallbackNote): void;
}

/** The move one write made, if any; `at` is the write's time. */
export function transitionOf(
  before: BreakerState,
  after: BreakerState,
  at: number,
): Pick<HealthTransition, 'from' | 'to'> | undefined {
  if (before.state === 'closed' && after.state === 'open') return { from: 'closed', to: 'open' };
  if (before.state === 'open' && after.state === 'closed') {
    return { from: 'half_open', to: 'closed' };
  }
  // Only a probe moves an open breaker: its failure starts another cool-down.
  if (before.state === 'open' && after.state === 'open' && after.until !== before.until) {
    return { from: (before.until ?? 0) <= at ? 'half_open' : 'open', to: 'open' };
  }
  return undefined;
}
