// The fake alerting, in memory: what was triggered and resolved, in order; `failures` makes it
// fail on demand. Same contract as the vendor adapters: one open incident per key.
import { FakeFailures } from '../fake-failures';
import type { Alerting, Incident } from './port';

export class FakeAlerting implements Alerting {
  readonly failures: FakeFailures;
  /** Every call that was delivered, in order. */
  readonly sent: (
    { action: 'trigger'; incident: Incident } | { action: 'resolve'; dedupKey: string }
  )[] = [];
  private readonly open = new Map<string, Incident>();

  constructor(readonly name = 'fake-alerts') {
    this.failures = new FakeFailures(name);
  }

  async trigger(incident: Incident): Promise<void> {
    await this.failures.check();
    this.sent.push({ action: 'trigger', incident });
    this.open.set(incident.dedupKey, incident);
  }

  async resolve(dedupKey: string): Promise<void> {
    await this.failures.check();
    this.sent.push({ action: 'resolve', dedupKey });
    this.open.delete(dedupKey);
  }

  /** The incidents open now. */
  openIncidents(): Incident[] {
    return [...this.open.values()];
  }
}
