// One scripted scenario placed through the real edge (the Twilio Media Streams simulator →
// media-edge → the call workflow on Temporal, PostgreSQL), then judged on what happened:
// the workflow's result and transcript, the payments rows of the call, its history.
import type { Pool } from 'pg';
import { callWorkflowId, transcriptQuery, type CallResult } from '../contracts/call';
import { ASKED_AGAIN, PROMPTS } from '../workflows/call-state';
import type { TextToSpeech } from '../providers/tts/port';
import { LocalTts } from '../providers/tts/local';
import { newCallSid, payloadText, runHistories } from './calls';
import { callStack, type EdgeStack } from './edge-stack';
import type { Voice } from './asr-corpus';
import { localEnv } from './platform';
import { judge, type Scenario, type ScenarioOutcome, type Verdict } from './scenarios';

/** A caller voice for the simulator's `say` lines. */
export const callerVoice = (v: Voice): TextToSpeech =>
  new LocalTts({
    engine: v.engine ?? 'espeak-ng',
    ...(v.voice && { voice: v.voice }),
    ...(v.rate && { wordsPerMinute: v.rate }),
  });

/** Payments, gateway charges and refunds whose keys carry the call's workflow id. */
export async function paymentsOf(
  db: Pool,
  workflowId: string,
): Promise<ScenarioOutcome['payments']> {
  // Keys carry the call's workflow id (`<workflow>:pay:<invoice>…`).
  const like = `%${workflowId}%`;
  const count = async (sql: string) =>
    Number((await db.query<{ n: string }>(sql, [like])).rows[0]!.n);
  return {
    payments: await count('SELECT count(*) AS n FROM payments WHERE idempotency_key LIKE $1'),
    charges: await count('SELECT count(*) AS n FROM gateway_charges WHERE idempotency_key LIKE $1'),
    refunds: await count(
      'SELECT count(*) AS n FROM gateway_refunds r JOIN gateway_charges c ON c.id = r.charge_id WHERE c.idempotency_key LIKE $1',
    ),
  };
}

export interface ScenarioRun {
  scenario: Scenario;
  outcome: ScenarioOutcome;
  verdict: Verdict;
}

/** The agent's lines that ask for the caller's last words again. */
const ASKING_AGAIN = [PROMPTS.repeat, PROMPTS.outOfScope, ...Object.values(ASKED_AGAIN)];

/** The call's last transcript line is the agent asking again (a patient caller repeats). */
async function askedAgain(workflowId: string): Promise<boolean> {
  const handle = (await localEnv()).client.workflow.getHandle(workflowId);
  const lines = await handle.query(transcriptQuery).catch(() => []);
  const last = lines[lines.length - 1];
  return last?.speaker === 'agent' && ASKING_AGAIN.some((a) => last.text.startsWith(a));
}

export async function runScenario(
  stack: EdgeStack,
  db: Pool,
  scenario: Scenario,
  opts: {
    from: string;
    voice?: TextToSpeech;
    pace: number;
    /** The caller says a line once more when the agent asks for it again. */
    patient?: boolean;
  },
): Promise<ScenarioRun> {
  const callSid = newCallSid();
  const report = await callStack(stack, scenario.script, {
    from: scenario.from ?? opts.from,
    pace: opts.pace,
    callSid,
    ...(opts.voice && { callerTts: opts.voice }),
    ...(opts.patient && { askedAgain: () => askedAgain(callWorkflowId(callSid)) }),
  });
  const handle = (await localEnv()).client.workflow.getHandle(report.workflowId);
  let result: CallResult | undefined;
  let failure: string | undefined;
  try {
    result = (await handle.result()) as CallResult;
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  const outcome: ScenarioOutcome = {
    report,
    ...(result && { result }),
    ...(failure && { failure }),
    // A closed workflow still answers queries: the worker replays it.
    transcript: await handle.query(transcriptQuery).catch(() => []),
    payments: await paymentsOf(db, report.workflowId),
    // Every run's: a call that continued as new carries its early turns in the first.
    historyText: (await runHistories((await localEnv()).client, report.workflowId))
      .map(payloadText)
      .join('\n'),
  };
  return { scenario, outcome, verdict: judge(scenario, outcome) };
}
