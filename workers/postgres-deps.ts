// The call activities' dependencies on the local PostgreSQL CRM/billing database, each a
// one-link fallback chain: the shape provider health and further providers plug into.
import { Pool } from 'pg';
import type { IntentClassifier } from '../providers/intent/port';
import type { CallActivityDeps } from '../activities/call-activities';
import { FallbackBilling } from '../providers/billing/fallback';
import { PostgresBilling } from '../providers/billing/postgres';
import { FallbackCrmClient } from '../providers/crm/fallback';
import { PostgresCrm } from '../providers/crm/postgres';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { FallbackIntentClassifier } from '../providers/intent/fallback';
import { FallbackPaymentGateway } from '../providers/payments/fallback';
import { LocalPostgresGateway } from '../providers/payments/local-postgres';
import { migrate } from '../providers/postgres/schema';

export async function postgresDeps(
  databaseUrl: string,
): Promise<CallActivityDeps & { pool: Pool }> {
  const pool = new Pool({ connectionString: databaseUrl, max: 10 });
  await migrate(pool);
  const intent = createEmbeddingIntentClassifier();
  await intent.warmUp();
  return { pool, ...postgresCallDeps(pool, intent) };
}

/** The call activities' chains on a CRM/billing database and an intent classifier. */
export function postgresCallDeps(pool: Pool, intent: IntentClassifier): CallActivityDeps {
  const billing = () =>
    new FallbackBilling([{ provider: 'postgres', port: new PostgresBilling(pool) }]);
  return {
    crm: new FallbackCrmClient([{ provider: 'postgres', port: new PostgresCrm(pool) }]),
    billing: billing(),
    intent: new FallbackIntentClassifier([{ provider: intent.name, port: intent }]),
    // Its own billing instance: a test double of `billing` (crash-worker.ts) keeps the saga's.
    payments: {
      billing: billing(),
      gateway: new FallbackPaymentGateway([
        { provider: 'local-postgres', port: new LocalPostgresGateway(pool) },
      ]),
    },
  };
}
