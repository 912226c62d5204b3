// One transaction on a pooled client. A client whose query got no reply (a black-holed
// database) still has that query in flight: it is destroyed (release(err)), never pooled
// again, and not asked to ROLLBACK (that would wait out a second bound; the server rolls
// back a transaction whose connection is gone).
import type { Pool, PoolClient } from 'pg';
import { connectionSpoiled } from './errors';

export async function inTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  /** The domain's own refusals thrown by `fn` (a declined payment): rolled back as usual. */
  isAnswer: (err: unknown) => boolean = () => false,
): Promise<T> {
  const client = await pool.connect();
  let spoiled: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (connectionSpoiled(err, isAnswer))
      spoiled = err instanceof Error ? err : new Error(String(err));
    else await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(spoiled);
  }
}
