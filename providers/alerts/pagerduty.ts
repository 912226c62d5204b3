// PagerDuty Events API v2 (POST /v2/enqueue): a trigger with the integration's routing key,
// our dedup key and the payload (summary, source, severity, timestamp, custom_details); a
// resolve with the same dedup key. PagerDuty answers 202 {status: "success", dedup_key}.
// The routing key comes from the environment (PAGERDUTY_ROUTING_KEY).
import { ProviderError } from '../provider-error';
import { postJson } from './http';
import type { Alerting, Incident } from './port';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com';

export function pagerDutyMissingConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.PAGERDUTY_ROUTING_KEY ? undefined : 'no routing key (PAGERDUTY_ROUTING_KEY)';
}

export class PagerDutyAlerting implements Alerting {
  readonly name = 'pagerduty';
  private readonly routingKey: string;

  constructor(
    private readonly endpoint = PAGERDUTY_EVENTS_URL,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const missing = pagerDutyMissingConfig(env);
    if (missing) throw new Error(`pagerduty: ${missing}`);
    this.routingKey = env.PAGERDUTY_ROUTING_KEY!;
  }

  async trigger(incident: Incident): Promise<void> {
    await this.send({
      routing_key: this.routingKey,
      event_action: 'trigger',
      dedup_key: incident.dedupKey,
      payload: {
        summary: incident.summary.slice(0, 1024), // PagerDuty's limit
        source: incident.source,
        severity: incident.severity,
        timestamp: incident.startedAt,
        component: incident.source,
        group: 'switchboard',
        class: 'provider-health',
        custom_details: incident.details,
      },
    });
  }

  async resolve(dedupKey: string): Promise<void> {
    await this.send({ routing_key: this.routingKey, event_action: 'resolve', dedup_key: dedupKey });
  }

  private async send(body: Record<string, unknown>): Promise<void> {
    const json = (await postJson(this.name, new URL('/v2/enqueue', this.endpoint), body)) as
      { status?: string } | undefined;
    if (json?.status !== 'success') {
      throw new ProviderError(
        this.name,
        'unavailable',
        `pagerduty: unexpected answer ${JSON.stringify(json)}`,
      );
    }
  }
}
