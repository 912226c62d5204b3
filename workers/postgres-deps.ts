// The call activities' dependencies on the local PostgreSQL CRM/billing database.
import { Pool } from 'pg';
import type { CallActivityDeps } from '../activities/call-activities';
import { PostgresBilling } from '../activities/providers/billing/postgres';
import { PostgresCrm } from '../activities/providers/crm/postgres';
import { RulesIntentClassifier } from '../activities/providers/intent/rules';
import { migrate } from '../activities/providers/postgres/schema';

export async function postgresDeps(
  databaseUrl: string,
): Promise<CallActivityDeps & { pool: Pool }> {
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  await migrate(pool);
  return {
    pool,
    crm: new PostgresCrm(pool),
    billing: new PostgresBilling(pool),
    intent: new RulesIntentClassifier(),
  };
}
