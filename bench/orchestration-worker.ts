// The orchestration bench's call worker, in a process of its own as in production (the
// edge and the worker never share an event loop there). Started by bench/orchestration.ts
// with fork(); told the dev server's address and the parent's workflow bundle (a file, as
// dist/ ships it) in its argv, it builds the same worker as workers/call-worker.ts over
// instantaneous in-memory providers, then answers the
// parent's messages: when the providers were called (for the one-call split), and stop.
import { performance } from 'node:perf_hooks';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { CallActivityDeps } from '../activities/call-activities';
import { FakeBilling } from '../providers/billing/fake';
import { FakeCrmClient, FakeCrmStore } from '../providers/crm/fake';
import type { CrmClient } from '../providers/crm/port';
import type { IntentClassifier } from '../providers/intent/port';
import { RulesIntentClassifier } from '../providers/intent/rules';
import { FakePaymentGateway } from '../providers/payments/fake';
import { DEMO_CUSTOMERS } from '../providers/postgres/schema';
import { KafkaEventBus } from '../providers/events/kafka';
import { kafkaBrokers } from '../infra';
import { createCallWorker } from '../workers/call-worker-factory';

/** Parent → worker. */
export type WorkerCommand = { cmd: 'marks-start' } | { cmd: 'marks-stop' } | { cmd: 'stop' };
/** Worker → parent. */
export type WorkerReport =
  | { kind: 'ready' }
  | { kind: 'marks'; marks: ProviderMarkTimes }
  | { kind: 'failed'; message: string };

/** Wall-clock times (epoch ms, sub-ms precision, comparable across processes) of provider calls. */
export interface ProviderMarkTimes {
  classifyStart: number[];
  classifyEnd: number[];
  balanceStart: number[];
  balanceEnd: number[];
}

/** The same clock in every process on the machine, unlike performance.now(). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** The worker's instantaneous providers: a rules classifier, an in-memory CRM and billing. */
export function memoryDeps(marks?: ProviderMarks): CallActivityDeps {
  const store = new FakeCrmStore(DEMO_CUSTOMERS);
  const crm = new FakeCrmClient(store);
  const intent = new RulesIntentClassifier();
  const payments = { billing: new FakeBilling(store), gateway: new FakePaymentGateway() };
  if (!marks) return { crm, billing: new FakeBilling(store), intent, payments };
  return {
    crm: marks.wrapCrm(crm),
    billing: new FakeBilling(store),
    intent: marks.wrapClassifier(intent),
    payments,
  };
}

/** When the worker called the providers, recorded only while one call runs alone. */
export class ProviderMarks {
  private on = false;
  private times: ProviderMarkTimes = ProviderMarks.empty();

  private static empty(): ProviderMarkTimes {
    return { classifyStart: [], classifyEnd: [], balanceStart: [], balanceEnd: [] };
  }

  start(): void {
    this.on = true;
    this.times = ProviderMarks.empty();
  }

  stop(): ProviderMarkTimes {
    this.on = false;
    return this.times;
  }

  wrapClassifier(inner: IntentClassifier): IntentClassifier {
    return {
      name: inner.name,
      classify: async (text) => {
        if (this.on) this.times.classifyStart.push(wallMs());
        const intent = await inner.classify(text);
        if (this.on) this.times.classifyEnd.push(wallMs());
        return intent;
      },
    };
  }

  wrapCrm(inner: CrmClient): CrmClient {
    return {
      findCustomerByPhone: (phone) => inner.findCustomerByPhone(phone),
      writeCallLog: (key, log) => inner.writeCallLog(key, log),
      attachRecording: (callSid, key) => inner.attachRecording(callSid, key),
      getBalance: async (customerId) => {
        if (this.on) this.times.balanceStart.push(wallMs());
        const balance = await inner.getBalance(customerId);
        if (this.on) this.times.balanceEnd.push(wallMs());
        return balance;
      },
    };
  }
}

async function main(): Promise<void> {
  const [address, namespace, codePath] = process.argv.slice(2);
  if (!address || !namespace || !codePath)
    throw new Error('usage: orchestration-worker ADDRESS NAMESPACE WORKFLOW_BUNDLE_FILE');
  const send = (r: WorkerReport) => process.send?.(r);
  // The SDK logs worker state changes at INFO; the bench's table is what matters.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const marks = new ProviderMarks();
  const connection = await NativeConnection.connect({ address });
  const worker = await createCallWorker({
    events: new KafkaEventBus({ brokers: kafkaBrokers() }),
    connection,
    namespace,
    deps: memoryDeps(marks),
    workflowBundle: { codePath },
  });
  process.on('message', (m: WorkerCommand) => {
    if (m.cmd === 'marks-start') marks.start();
    else if (m.cmd === 'marks-stop') send({ kind: 'marks', marks: marks.stop() });
    else worker.shutdown();
  });
  // The parent gone (killed, crashed) leaves no worker polling behind.
  process.on('disconnect', () => worker.shutdown());
  const running = worker.run();
  send({ kind: 'ready' });
  await running;
  await connection.close();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err) => {
    process.send?.({ kind: 'failed', message: String(err) } satisfies WorkerReport);
    console.error('[bench worker] failed:', err);
    process.exit(1);
  });
}
