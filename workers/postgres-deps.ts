// The call activities' dependencies on the local PostgreSQL CRM/billing database.
import { Pool } from 'pg';
import type { CallActivityDeps } from '../activities/call-activities';
import { PostgresBilling } from '../providers/billing/postgres';
import { PostgresCrm } from '../providers/crm/postgres';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { LocalPostgresGateway } from '../providers/payments/local-postgres';
import { migrate } from '../providers/postgres/schema';

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
