// The optional capability of a vendor adapter whose vendor answers a cheap, free request with
// no side effect (a model list, a PING, SELECT 1): asked on a timer by the health checker
// (providers/health/health-checker.ts), so a provider's breaker opens and closes without
// waiting for a caller to use it. Failures throw the one neutral ProviderError, like a request.
export interface HealthCheck {
  /** Resolves when the vendor answered; `signal` aborts it when the check's bound is up. */
  check(signal: AbortSignal): Promise<void>;
}

export function isHealthCheck(port: unknown): port is HealthCheck {
  return (
    typeof port === 'object' &&
    port !== null &&
    typeof (port as Partial<HealthCheck>).check === 'function'
  );
}
