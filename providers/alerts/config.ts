// The alerting chain from the environment: ALERTS_CHAIN lists the links in order
// (pagerduty, alertmanager, log); a vendor without its configuration becomes a skipped link
// with the reason.
import { z } from 'zod';
import { parseEnvConfig } from '../env-config';
import type { FallbackGate, FallbackLink } from '../fallback';
import { AlertmanagerAlerting, alertmanagerMissingConfig } from './alertmanager';
import { FallbackAlerting } from './fallback';
import { LogAlerting } from './log';
import { PAGERDUTY_EVENTS_URL, PagerDutyAlerting, pagerDutyMissingConfig } from './pagerduty';
import type { Alerting } from './port';

export const ALERT_PROVIDERS = ['pagerduty', 'alertmanager', 'log'] as const;

const AlertsEnv = z.object({
  ALERTS_CHAIN: z
    .string()
    .default(ALERT_PROVIDERS.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ALERT_PROVIDERS)).min(1)),
  ALERTS_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  PAGERDUTY_EVENTS_URL: z.string().url().default(PAGERDUTY_EVENTS_URL),
  ALERTMANAGER_URL: z.string().url().optional(),
});

export function alertingFromEnv(
  log: (line: string) => void,
  gate?: FallbackGate,
  env: NodeJS.ProcessEnv = process.env,
): Alerting {
  const c = parseEnvConfig(AlertsEnv, env, 'alerts');
  const timeoutMs = c.ALERTS_TIMEOUT_MS;
  const links = c.ALERTS_CHAIN.map((provider): FallbackLink<Alerting> => {
    if (provider === 'log') return { provider, port: new LogAlerting(log) };
    if (provider === 'pagerduty') {
      const skipReason = pagerDutyMissingConfig(env);
      if (skipReason) return { provider, skipReason };
      return { provider, timeoutMs, tries: 2, backoffMs: [500], port: new PagerDutyAlerting(c.PAGERDUTY_EVENTS_URL, env) }; // prettier-ignore
    }
    const skipReason = alertmanagerMissingConfig(env);
    if (skipReason) return { provider, skipReason };
    return { provider, timeoutMs, tries: 2, backoffMs: [500], port: new AlertmanagerAlerting(c.ALERTMANAGER_URL!) }; // prettier-ignore
  });
  return new FallbackAlerting(links, gate);
}
