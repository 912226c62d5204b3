// What a family's fake is told to do instead of answering: fail with a ProviderError of a
// given kind (for the next n calls or until cleared) or answer late, so tests of chains,
// activities and workflows can make a provider misbehave on demand.
import type { ProviderErrorKind } from '../contracts/providers';
import { pause } from './pause';
import { ProviderError } from './provider-error';

export class FakeFailures {
  private failing?: { kind: ProviderErrorKind; left: number };
  private delayMs = 0;
  /** Calls made to the fake, failed ones included. */
  calls = 0;

  constructor(private readonly provider: string) {}

  /** Fails the next `times` calls (all of them by default) with a ProviderError of `kind`. */
  failWith(kind: ProviderErrorKind, times = Infinity): void {
    this.failing = { kind, left: times };
  }

  /** Answers every call after `ms` (0: at once). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Back to answering at once. */
  clear(): void {
    this.failing = undefined;
    this.delayMs = 0;
  }

  /** Called first by every method of the fake: waits, then throws when told to. */
  async check(): Promise<void> {
    this.calls++;
    await pause(this.delayMs);
    if (!this.failing || this.failing.left <= 0) return;
    this.failing.left--;
    throw new ProviderError(this.provider, this.failing.kind, `${this.provider}: told to fail`);
  }
}
