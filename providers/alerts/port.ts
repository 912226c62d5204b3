// The alerting family: how ops are told of an incident (a provider down too long, too many
// fallbacks) and told again when it is over. One incident per dedup key: triggering it again
// while it is open updates it, resolving it closes it.

export type IncidentSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface Incident {
  /** One incident per key (per provider: `switchboard/provider/tts:polly`). */
  dedupKey: string;
  /** One line a person reads first. */
  summary: string;
  /** What is affected (the provider, `tts:polly`). */
  source: string;
  severity: IncidentSeverity;
  /** ISO 8601: when the trouble began. */
  startedAt: string;
  /** Facts for the responder: the reason, failures, the last error … (no payloads). */
  details: Record<string, string | number>;
}

export interface Alerting {
  readonly name: string;
  /** Opens the incident (or updates it, same dedupKey). ProviderError when not delivered. */
  trigger(incident: Incident): Promise<void>;
  /** Closes the incident of that key (a key never triggered is harmless). */
  resolve(dedupKey: string): Promise<void>;
}
