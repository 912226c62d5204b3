// The cache family: short-lived string values by key, each with a TTL. A group lists keys
// (the entries of one call, say) so they can be found and dropped together.
import { ProviderError } from '../provider-error';

export interface CacheSetOptions {
  /** Seconds the value lives; a positive whole number. */
  ttlS: number;
  /** Lists the key in this group in the same atomic step; the group then lives ttlS too. */
  group?: string;
}

export interface Cache {
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, opts: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** The keys listed in a group (an entry may have expired since it was listed). */
  groupKeys(group: string): Promise<string[]>;
  /**
   * Deletes the given keys (default: every key listed) and unlists them, in one atomic
   * step. Keys listed since the caller looked stay listed.
   */
  deleteGroup(group: string, keys?: readonly string[]): Promise<void>;
}

/** A TTL Redis would refuse (0, negative, fractional) is the caller's mistake. */
export function checkTtl(provider: string, ttlS: number): void {
  if (!Number.isInteger(ttlS) || ttlS <= 0) {
    throw new ProviderError(
      provider,
      'bad_input',
      `cache TTL ${ttlS} is not a positive whole number of seconds`,
    );
  }
}
