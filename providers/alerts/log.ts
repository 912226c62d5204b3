// Alerting into the process's log: the last link of a chain, so an incident no vendor took is
// at least written where ops look, and the only one where no vendor is configured (local).
import type { Alerting, Incident } from './port';

export class LogAlerting implements Alerting {
  readonly name = 'log';

  constructor(private readonly log: (line: string) => void) {}

  trigger(incident: Incident): Promise<void> {
    this.log(
      `INCIDENT ${incident.dedupKey} [${incident.severity}] ${incident.summary} ` +
        JSON.stringify(incident.details),
    );
    return Promise.resolve();
  }

  resolve(dedupKey: string): Promise<void> {
    this.log(`INCIDENT RESOLVED ${dedupKey}`);
    return Promise.resolve();
  }
}
