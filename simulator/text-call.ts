// A text-level caller that behaves like Twilio towards the edge: it sends the signed
// incoming-call webhook, reads the TwiML, and then plays the media pipeline's part for
// each line (one update per final utterance), printing each turn with its latency.
import { performance } from 'node:perf_hooks';
import { callSidFor } from './call-sid';
import { postSignedWebhook } from './twilio-http';
import type { Client } from '@temporalio/client';
import { CallBridge } from '../media-edge/call/bridge';
import type { CallResult, Reply } from '../contracts/call';

export interface TextCallOptions {
  client: Client;
  /** Where the edge listens, e.g. http://127.0.0.1:8080. */
  edgeUrl: string;
  /** The public URL the edge validates signatures against. */
  publicUrl: string;
  authToken: string;
  from: string;
  to: string;
  lines: string[];
  print?: (line: string) => void;
  /** The call's Twilio CallSid (`CA` + 32 hex characters); default a random one. */
  callSid?: string;
}

export interface TextCallTurn {
  caller?: string;
  agent: string;
  action: Reply['action'];
  latencyMs: number;
}

export interface TextCallReport {
  callSid: string;
  workflowId: string;
  runId: string;
  turns: TextCallTurn[];
  result: CallResult;
}

export async function placeTextCall(opts: TextCallOptions): Promise<TextCallReport> {
  const print = opts.print ?? console.log;
  const callSid = callSidFor(opts.callSid);
  const twiml = await postSignedWebhook(opts, '/v1/calls/incoming', {
    CallSid: callSid,
    AccountSid: 'AC' + '0'.repeat(32),
    From: opts.from,
    To: opts.to,
    CallStatus: 'ringing',
  });
  if (!/<Connect><Stream url="[^"]+"/.test(twiml))
    throw new Error(`the edge did not answer with a media stream: ${twiml}`);

  const bridge = new CallBridge(opts.client, callSid);
  const turns: TextCallTurn[] = [];
  const timed = async (caller: string | undefined, send: () => Promise<Reply>) => {
    const t0 = performance.now();
    const reply = await send();
    const turn = {
      ...(caller !== undefined && { caller }),
      agent: reply.text,
      action: reply.action,
      latencyMs: performance.now() - t0,
    };
    turns.push(turn);
    if (caller !== undefined) print(`  caller: ${caller}`);
    print(
      `  agent:  ${reply.text}   (${turn.latencyMs.toFixed(1)} ms${reply.action !== 'continue' ? `, ${reply.action}` : ''})`,
    );
    return reply;
  };

  let reply = await timed(undefined, () =>
    // Text-level: no media stream, so no streamSid (and no recording to wait for).
    bridge.streamStarted(),
  );
  for (const line of opts.lines) {
    if (reply.action !== 'continue') break;
    reply = await timed(line, () => bridge.utterance(line));
  }
  // The caller hangs up if the agent did not end the call.
  await postSignedWebhook(opts, '/v1/calls/status', { CallSid: callSid, CallStatus: 'completed' });
  const result = (await bridge.handle.result()) as CallResult;
  const { runId } = await bridge.handle.describe();
  return { callSid, workflowId: bridge.handle.workflowId, runId, turns, result };
}
