// Calls served in a degraded mode are visible in the Web UI: on a real Temporal dev server,
// a call whose answer came from a fallback because the primary LLM failed (OpenAI's API at a
// port nothing listens on) carries DegradedMode = llm:openai; a call served while that
// provider's breaker was open (passed over as unhealthy) also carries NeedsReview =
// provider_outage. Both are found with the Web UI's list query.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  callStatusSignal,
  SA_DEGRADED_MODE,
  SA_NEEDS_REVIEW,
  transcriptQuery,
} from '../../contracts/call';
import { createKnowledgeAnswerer } from '../../conversation/answers/knowledge-answerer';
import { ProviderHealth } from '../../providers/health/provider-health';
import { callWorker, maybeRecordHistory, startCall } from '../../testing/calls';
import { localEnv, resetDb } from '../../testing/platform';

const QUEUE = `degraded-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('degraded calls in the Web UI', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const health = new ProviderHealth();

  before(async () => {
    env = await localEnv();
    await resetDb();
    const answerer = await createKnowledgeAnswerer({
      env: {
        ...process.env,
        LLM_CHAIN: 'openai,template',
        OPENAI_API_KEY: 'sk-test-not-a-key',
        OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
      },
      health,
    });
    worker = await callWorker(env, undefined, QUEUE, answerer);
    running = worker.run();
  });
  after(async () => {
    worker.shutdown();
    await running;
  });

  /** One knowledge question, then the caller hangs up. */
  async function call(): Promise<string> {
    const { bridge, handle } = await startCall(env.client, { taskQueue: QUEUE });
    await bridge.streamStarted();
    const reply = await bridge.utterance('what is the late fee if i pay late');
    assert.equal(reply.intent?.name, 'ask_billing');
    const answer = (await handle.query(transcriptQuery)).find((l) => l.answer)?.answer;
    assert.equal(answer?.servedBy, 'template');
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
    return handle.workflowId;
  }

  /** The workflow ids the Web UI's query finds (visibility is eventually consistent). */
  async function listed(query: string, expected: string): Promise<string[]> {
    for (let i = 0; ; i++) {
      const ids: string[] = [];
      for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
      if (ids.includes(expected) || i >= 50) return ids;
      await sleep(200);
    }
  }

  it('the primary LLM failed, a fallback answered: DegradedMode = llm:openai, no review', async () => {
    const id = await call();
    await maybeRecordHistory(env, id, 'llm-fallback-answer');
    const sa = (await env.client.workflow.getHandle(id).describe()).typedSearchAttributes;
    assert.deepEqual(sa.get(SA_DEGRADED_MODE), ['llm:openai']);
    assert.equal(sa.get(SA_NEEDS_REVIEW), undefined);
    assert.ok(
      (await listed(`DegradedMode = 'llm:openai' AND WorkflowId = '${id}'`, id)).includes(id),
    );
  });

  it('served while the primary’s breaker was open: DegradedMode and NeedsReview = provider_outage', async () => {
    for (let i = 0; i < 5; i++) {
      health.record({
        provider: 'llm:openai',
        ok: false,
        ms: 1,
        kind: 'unavailable',
        reason: 'down',
      });
    }
    const id = await call();
    const sa = (await env.client.workflow.getHandle(id).describe()).typedSearchAttributes;
    assert.deepEqual(sa.get(SA_DEGRADED_MODE), ['llm:openai']);
    assert.deepEqual(sa.get(SA_NEEDS_REVIEW), ['provider_outage']);
    assert.ok(
      (await listed(`NeedsReview = 'provider_outage' AND WorkflowId = '${id}'`, id)).includes(id),
    );
  });
});
