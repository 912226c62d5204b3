// Prometheus Alertmanager's API v2 (POST /api/v2/alerts, a list of postable alerts). An
// alert is identified by its label set, so the labels are only the alert's name and our dedup
// key (a resolve, which knows only the key, sends the same set); everything else goes in
// annotations. A trigger has startsAt; a resolve sends endsAt = now, which Alertmanager
// takes as resolved. Alertmanager answers 200 with no body.
import { postJson } from './http';
import type { Alerting, Incident } from './port';

export const ALERT_NAME = 'SwitchboardProviderIncident';

export function alertmanagerMissingConfig(
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return env.ALERTMANAGER_URL ? undefined : 'no URL (ALERTMANAGER_URL)';
}

export class AlertmanagerAlerting implements Alerting {
  readonly name = 'alertmanager';

  constructor(
    private readonly url: string,
    private readonly now: () => number = Date.now,
  ) {}

  async trigger(incident: Incident): Promise<void> {
    await this.send({
      labels: labels(incident.dedupKey),
      annotations: {
        summary: incident.summary,
        source: incident.source,
        severity: incident.severity,
        ...Object.fromEntries(Object.entries(incident.details).map(([k, v]) => [k, String(v)])),
      },
      startsAt: incident.startedAt,
    });
  }

  async resolve(dedupKey: string): Promise<void> {
    await this.send({ labels: labels(dedupKey), endsAt: new Date(this.now()).toISOString() });
  }

  private async send(alert: Record<string, unknown>): Promise<void> {
    await postJson(this.name, new URL('/api/v2/alerts', this.url), [alert]);
  }
}

function labels(dedupKey: string): Record<string, string> {
  return { alertname: ALERT_NAME, dedup_key: dedupKey };
}
