// One cross-process lock for the local platform's shared files (the infra lock, the
// knowledge-base writer): proper-lockfile's atomic mkdir lock, kept fresh by its holder and
// taken over once stale, so a killed holder never blocks the next start for longer than
// `staleMs`. Waiters poll with a bound and say once what they wait for.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';

export interface FileLockOptions {
  /** What the lock guards, for messages: "the knowledge-base writer". */
  what: string;
  /** Give up waiting after this long (ms). */
  waitMs: number;
  /**
   * A lock not refreshed for this long belongs to a dead holder and is taken over. The holder
   * refreshes it every staleMs / 4, so a synchronous step longer than that (initdb, a JVM
   * start) must stay well under it.
   */
  staleMs?: number;
  /** Told once when the lock is busy, and when it is taken. */
  log?: (line: string) => void;
}

export type ReleaseLock = () => Promise<void>;

const POLL_MS = 250;

export class LockTimeoutError extends Error {
  constructor(what: string, lock: string, waitedMs: number) {
    super(
      `gave up after ${Math.round(waitedMs / 1000)} s waiting for ${what} (lock ${lock}): ` +
        'another process holds it; if none should, remove the lock directory',
    );
    this.name = 'LockTimeoutError';
  }
}

/** Takes the lock at `lock` (a directory path), waiting up to `waitMs` for its holder. */
export async function acquireFileLock(lock: string, opts: FileLockOptions): Promise<ReleaseLock> {
  const staleMs = opts.staleMs ?? 20_000;
  mkdirSync(path.dirname(lock), { recursive: true });
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      const release = await lockfile.lock(lock, {
        lockfilePath: lock,
        realpath: false,
        stale: staleMs,
        update: Math.max(1_000, staleMs / 4),
        retries: 0,
        // A holder whose lock was taken over (it stalled past staleMs) learns it here; it
        // goes on, and the other holder's result wins when both publish atomically.
        onCompromised: (err) => opts.log?.(`lost ${opts.what} lock ${lock}: ${err.message}`),
      });
      if (told) opts.log?.(`${opts.what} is free now (waited ${elapsed(started)})`);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    const waited = Date.now() - started;
    if (waited >= opts.waitMs) throw new LockTimeoutError(opts.what, lock, waited);
    if (!told) {
      opts.log?.(
        `waiting for ${opts.what}: another process holds ${lock} ` +
          `(at most ${Math.round(opts.waitMs / 1000)} s; a dead holder's lock is taken over after ${staleMs / 1000} s)`,
      );
      told = true;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function withFileLock<T>(
  lock: string,
  opts: FileLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const release = await acquireFileLock(lock, opts);
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined); // already released (compromised): nothing to undo
  }
}

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
