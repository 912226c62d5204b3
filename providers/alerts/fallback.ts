// Alerting as a fallback chain. A trigger goes down the links until one delivers it; a
// resolve goes to every configured link (the trigger may have reached any of them, and
// closing a key never opened is harmless), and fails only when none took it.
import {
  FallbackExhaustedError,
  FallbackRunner,
  type FallbackGate,
  type FallbackLink,
} from '../fallback';
import type { ProviderAttempt } from '../../contracts/providers';
import type { Alerting, Incident } from './port';

export class FallbackAlerting implements Alerting {
  readonly name: string;
  private readonly runner: FallbackRunner<Alerting>;

  constructor(
    private readonly links: FallbackLink<Alerting>[],
    private readonly gate?: FallbackGate,
  ) {
    this.runner = new FallbackRunner('alerts', links, gate);
    this.name = links.map((l) => l.provider).join(',');
  }

  async trigger(incident: Incident): Promise<void> {
    await this.runner.run((a) => a.trigger(incident));
  }

  async resolve(dedupKey: string): Promise<void> {
    const attempts: ProviderAttempt[] = [];
    const results = await Promise.allSettled(
      this.links.map(async (link) => {
        if (!link.port) return;
        const one = new FallbackRunner('alerts', [link], this.gate);
        await one.run((a) => a.resolve(dedupKey), { attempts });
        return true;
      }),
    );
    if (!results.some((r) => r.status === 'fulfilled' && r.value)) {
      throw new FallbackExhaustedError('alerts', attempts);
    }
  }
}
