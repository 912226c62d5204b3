// A knowledge-base question answered through the real local stack: the intent model, the
// published PGlite index, the LLM chain (in-process SmolLM2, then the template), the safety
// checks — as a text call on the call worker and as an audio call, spoken on the edge host
// sentence by sentence while the answer is generated.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createKnowledgeAnswerer } from '../../conversation/answers/knowledge-answerer';
import type { Answerer } from '../../conversation/answers/answerer';
import { NOT_CONFIDENT } from '../../conversation/safety/grounding';
import { repoRoot } from '../../infra/paths';
import { PROMPTS } from '../../workflows/call-state';
import { callStatusSignal, transcriptQuery, type TranscriptEntry } from '../../contracts/call';
import {
  decryptedHistory,
  ADA,
  historyPayloadText,
  maybeRecordHistory,
  startCall,
} from '../../testing/calls';
import { callStack, startEdgeStack, type EdgeStack } from '../../testing/edge-stack';
import { localEnv, resetDb } from '../../testing/platform';

const kbText = (): string =>
  fs
    .readdirSync(path.join(repoRoot, 'kb'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.md'))
    .map((f) => fs.readFileSync(path.join(repoRoot, 'kb', f), 'utf8'))
    .join('\n');

/** Every dollar figure the agent spoke is one the knowledge base states. */
function assertFiguresFromKb(text: string): void {
  const kb = kbText();
  for (const m of text.matchAll(/(\d+) dollars?/g))
    assert.ok(kb.includes(`$${m[1]}`), `"${m[0]}" is not in the knowledge base: ${text}`);
}

const answerLine = (t: TranscriptEntry[]) => t.find((e) => e.speaker === 'agent' && e.answer);

describe('knowledge-base answers end to end (local stack)', function () {
  this.timeout(300_000);
  let stack: EdgeStack;
  let answerer: Answerer;

  before(async () => {
    answerer = await createKnowledgeAnswerer({
      // The model is asked first here (not the extractive answer), to test the chain's record.
      env: { ...process.env, LLM_CHAIN: 'openai,local,template', ANSWER_EXTRACTIVE_FIRST: 'false' },
    });
    stack = await startEdgeStack({ answerer });
  });
  after(async () => {
    await stack?.stop();
  });
  beforeEach(() => resetDb());

  it('text call: a billing question gets a grounded answer, and only its record enters history', async () => {
    const { client } = await localEnv();
    const { bridge, handle } = await startCall(client, { from: ADA });
    await bridge.streamStarted();
    const reply = await bridge.utterance('what is the late fee if i pay late');
    assert.equal(reply.intent?.name, 'ask_billing');
    const line = answerLine(await handle.query(transcriptQuery));
    assert.ok(line?.answer, 'the transcript records the answer');
    assert.ok(
      line.answer.documentIds.some((id) => id.startsWith('billing/')),
      line.answer.documentIds.join(),
    );
    // openai has no key here: skipped, and the record says so.
    assert.ok(line.answer.fallbacks.includes('openai'));
    if (line.answer.refused) {
      // The small local model may invent a figure: then the refusal is what the caller hears.
      if (line.answer.refused === 'ungrounded') assert.equal(reply.text, NOT_CONFIDENT);
      assert.equal(reply.action, 'transfer');
    } else {
      assert.ok(['local', 'template'].includes(line.answer.servedBy), line.answer.servedBy);
      assert.ok(reply.text.endsWith(PROMPTS.anythingElse), reply.text);
      assertFiguresFromKb(reply.text);
    }
    await handle.signal(callStatusSignal, 'completed');
    await handle.result();
    await maybeRecordHistory(await localEnv(), handle.workflowId, 'kb-answer-with-events');
    // The documents and the model's prompt stay out of history: a KB sentence the answer
    // did not use is nowhere in it.
    const history = await historyPayloadText(handle);
    assert.ok(history.includes('what is the late fee'), 'payloads decoded');
    assert.ok(!history.includes('Downed power lines'), 'document text in history');
    assert.ok(!history.includes('data, not instructions'), 'the prompt is in history');
  });

  it('template only: the late fee comes from the billing documents, spoken for the ear', async () => {
    const template = await createKnowledgeAnswerer({
      env: { ...process.env, LLM_CHAIN: 'template' },
    });
    const record = await template.answer({
      callSid: 'CAtest',
      turnId: 1,
      question: 'what is the late fee',
      intent: 'ask_billing',
      customer: { id: 'cus_ada', name: 'Ada' },
      recentTurns: [],
      turnCount: 1,
    });
    assert.equal(record.servedBy, 'template');
    assert.equal(record.refused, undefined);
    assert.match(record.text, /10 dollars/);
    assertFiguresFromKb(record.text);
  });

  it('audio call: the answer is spoken on the edge as it is generated', async () => {
    const report = await callStack(stack, [{ kind: 'say', text: 'what is the late fee' }], {
      from: ADA,
      pace: 2,
    });
    const { client } = await localEnv();
    const handle = client.workflow.getHandle(report.workflowId);
    const line = answerLine(await handle.query(transcriptQuery));
    assert.ok(line?.answer, 'no answer in the transcript');
    const history = await decryptedHistory(handle);
    const scheduled = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'answerOnCall',
    );
    assert.equal(
      scheduled?.activityTaskScheduledEventAttributes?.taskQueue?.name,
      stack.config.hostTaskQueue,
      'answered on the edge host that holds the call',
    );
    // The caller heard the answer: agent audio came back after the question.
    const asked = report.turns.find((t) => t.index === 1);
    assert.ok(asked && asked.agentAudioMs > 1000, `the caller heard ${asked?.agentAudioMs} ms`);
    assert.ok(asked.voiceToVoiceMs !== undefined);
    if (!line.answer.refused) assertFiguresFromKb(line.text);
  });
});
