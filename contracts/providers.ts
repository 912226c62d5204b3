// What every provider family reports about a request: why a provider failed (the kind of a
// ProviderError) and one attempt record per provider asked, kept in history and events.

/**
 * Why a provider did not serve. timeout, rate_limited and unavailable may pass on their own;
 * bad_input and not_found never will for the same request; aborted is our own cancellation
 * (barge-in, hang-up, a deadline of the caller).
 */
export type ProviderErrorKind =
  'timeout' | 'rate_limited' | 'unavailable' | 'bad_input' | 'not_found' | 'aborted';

/** Why a link of a fallback chain was not asked, or what its answer lacked. */
export type AttemptOutcome = ProviderErrorKind | 'skipped' | 'empty';

/** One provider asked for one request (or passed over), in the order they were asked. */
export interface ProviderAttempt {
  provider: string;
  /** True for the provider that served (even when its streamed answer was cut short later). */
  ok: boolean;
  /** From the request to the provider's answer or failure. */
  ms: number;
  /** Why it did not serve, or why a served stream ended early. */
  kind?: AttemptOutcome;
  /** The provider's own words, or why it was skipped. */
  reason?: string;
  /** Streams: time to the first non-blank piece. */
  firstTokenMs?: number;
  /** Speech recognition: fed the kept audio after the caller stopped, not the live stream. */
  replay?: boolean;
}
