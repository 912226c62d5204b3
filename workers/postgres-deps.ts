// The call activities' dependencies on the local PostgreSQL CRM/billing database, each a
// one-link fallback chain: the shape provider health and further providers plug into.
import type { Pool } from 'pg';
import { createPostgresPool } from '../infra/postgres-pool';
import type { IntentClassifier } from '../providers/intent/port';
import type { ProviderHealth } from '../providers/health/provider-health';
import type { CallActivityDeps } from '../activities/call-activities';
import { FallbackBilling } from '../providers/billing/fallback';
import { PostgresBilling } from '../providers/billing/postgres';
import { FallbackCrmClient } from '../providers/crm/fallback';
import { PostgresCrm } from '../providers/crm/postgres';
import { createEmbeddingIntentClassifier } from '../providers/intent/embedding';
import { FallbackIntentClassifier } from '../providers/intent/fallback';
import { MixedAnswerGuard } from '../providers/intent/mixed-answer';
import { FallbackPaymentGateway } from '../providers/payments/fallback';
import { LocalPostgresGateway } from '../providers/payments/local-postgres';
import { migrate } from '../providers/postgres/schema';

export async function postgresDeps(
  databaseUrl: string,
  health?: ProviderHealth,
): Promise<CallActivityDeps & { pool: Pool }> {
  // Bounded waits (PG_*_MS): a black-holed database fails as a timeout, not a hang.
  const pool = createPostgresPool(databaseUrl, { max: 10 });
  await migrate(pool);
  const intent = createEmbeddingIntentClassifier();
  await intent.warmUp();
  return { pool, ...postgresCallDeps(pool, intent, health) };
}

/** The call activities' chains on a CRM/billing database and an intent classifier. */
export function postgresCallDeps(
  pool: Pool,
  intent: IntentClassifier,
  health?: ProviderHealth,
): CallActivityDeps {
  const gate = (family: string) => health?.forFamily(family);
  const billing = () =>
    new FallbackBilling(
      [{ provider: 'postgres', port: new PostgresBilling(pool) }],
      gate('billing'),
    );
  return {
    crm: new FallbackCrmClient(
      [{ provider: 'postgres', port: new PostgresCrm(pool) }],
      gate('crm'),
    ),
    billing: billing(),
    intent: new MixedAnswerGuard(
      new FallbackIntentClassifier([{ provider: intent.name, port: intent }], gate('intent')),
    ),
    // Its own billing instance: a test double of `billing` (crash-worker.ts) keeps the saga's.
    payments: {
      billing: billing(),
      gateway: new FallbackPaymentGateway(
        [{ provider: 'local-postgres', port: new LocalPostgresGateway(pool) }],
        gate('payments'),
      ),
    },
  };
}
