// The call activities' dependencies on the local PostgreSQL CRM/billing database.
import { Pool } from 'pg';
import type { CallActivityDeps } from '../activities/call-activities';
import { PostgresBilling } from '../activities/providers/billing/postgres';
import { PostgresCrm } from '../activities/providers/crm/postgres';
import { createEmbeddingIntentClassifier } from '../activities/providers/intent/embedding';
import { LocalPostgresGateway } from '../activities/providers/payments/local-postgres';
import { migrate } from '../activities/providers/postgres/schema';

export async function postgresDeps(
  databaseUrl: string,
): Promise<CallActivityDeps & { pool: Pool }> {
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  await migrate(pool);
  const intent = createEmbeddingIntentClassifier();
  await intent.warmUp();
  return {
    pool,
    crm: new PostgresCrm(pool),
    billing: new PostgresBilling(pool),
    intent,
    // Its own billing instance: a test double of `billing` (crash-worker.ts) keeps the saga's.
    payments: { billing: new PostgresBilling(pool), gateway: new LocalPostgresGateway(pool) },
  };
}
