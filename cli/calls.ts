// Placing calls against the running local system, for `switchboard call` and the demo: a
// text-level call (the simulator plays the edge's part: times are orchestration only) or a
// real audio call through the Media Streams edge (times are voice to voice), followed by
// what the edge heard, what the agent said and where the call's recording is.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { s3Options, S3ObjectStore } from '../providers/object-store/s3';
import { paths, temporalNamespace, temporalUiUrl } from '../infra';
import { shortPath } from '../infra/paths';
import { callerNumberQuery } from '../infra/caller-index';
import { historyDataConverter } from '../infra/payload-codec';
import type { CallerScriptItem } from '../simulator/caller-script';
import { placeTextCall, type TextCallReport } from '../simulator/text-call';
import {
  createAgentTranscriber,
  placeAudioCall,
  recordingWav,
  type AudioCallReport,
} from '../simulator/twilio-caller';
import { transcriptQuery, type CallResult } from '../contracts/call';
import { postCallWorkflowId, type PostCallResult } from '../contracts/post-call';
import { localEnv } from './dev-env';

const TO = '+15550009999';

export const workflowUiUrl = (workflowId: string, runId?: string): string =>
  `${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows/${workflowId}` +
  (runId ? `/${runId}/history` : '');

/** The local system's environment, once its media-edge answers. */
async function runningEdgeEnv(): Promise<NodeJS.ProcessEnv> {
  const env = localEnv();
  const up = await fetch(`${env.EDGE_PUBLIC_URL}/healthz`)
    .then((r) => r.ok)
    .catch(() => false);
  if (!up)
    throw new Error(
      `no media-edge answers at ${env.EDGE_PUBLIC_URL}: start the system first (./switchboard start)`,
    );
  return env;
}

async function withClient<T>(env: NodeJS.ProcessEnv, fn: (client: Client) => Promise<T>) {
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const dataConverter = historyDataConverter(env);
    return await fn(new Client({ connection, namespace: env.TEMPORAL_NAMESPACE!, dataConverter }));
  } finally {
    await connection.close();
  }
}

/** `./switchboard find --from <number>`: the calls from a number, through its keyed index. */
export async function findCalls(from: string): Promise<void> {
  const env = localEnv();
  const query = `WorkflowType = 'callWorkflow' AND ${callerNumberQuery(from.trim(), env)}`;
  console.log(`[find] ${query}`);
  await withClient(env, async (client) => {
    let found = 0;
    for await (const info of client.workflow.list({ query })) {
      found++;
      const when = info.startTime.toISOString().replace('T', ' ').slice(0, 19);
      console.log(`${info.workflowId}  ${info.status.name.toLowerCase()}  started ${when}  ${workflowUiUrl(info.workflowId, info.runId)}`); // prettier-ignore
    }
    console.log(found ? `[find] ${found} run(s)` : `[find] no calls from ${from.trim()}`);
  });
}

export interface CallFlags {
  from: string;
  callSid?: string;
}

/** A text-level call: each line goes to the workflow as the edge would send it. */
export async function textCall(lines: string[], o: CallFlags): Promise<TextCallReport> {
  const env = await runningEdgeEnv();
  return withClient(env, async (client) => {
    console.log(`[call] ${o.from} calls in, saying: ${lines.map((l) => `"${l}"`).join(', ')}`);
    console.log(
      '[call] text-level: no audio; each time is the orchestration only (utterance sent → reply)',
    );
    const report = await placeTextCall({
      client,
      edgeUrl: env.EDGE_PUBLIC_URL!,
      publicUrl: env.EDGE_PUBLIC_URL!,
      authToken: env.TWILIO_AUTH_TOKEN!,
      from: o.from,
      to: TO,
      lines,
      ...(o.callSid && { callSid: o.callSid }),
    });
    const { disposition, turns } = report.result;
    console.log(`[call] ended: ${disposition} after ${turns} turns, ${callLogText(report.result)}`);
    console.log(`[call] Web UI: ${workflowUiUrl(report.workflowId, report.runId)}`);
    return report;
  });
}

export interface AudioCallFlags extends CallFlags {
  pace: number;
  /** Transcribe the agent's audio after the call (pocketsphinx). */
  transcribe?: boolean;
  /** Save what the caller heard as a two-channel WAV here. */
  record?: string;
  /** Copy the recording the edge stored into this folder. */
  keepRecordingIn?: string;
  /** Wait for the post-call workflow (transcript, summary, QA flags) and print what it found. */
  awaitPostCall?: boolean;
}

/** A real audio call: synthesized caller speech over the Media Streams WebSocket. */
export async function audioCall(
  script: CallerScriptItem[],
  o: AudioCallFlags,
): Promise<AudioCallReport> {
  if (!script.some((i) => i.kind === 'say' || i.kind === 'audio' || i.kind === 'dtmf'))
    throw new Error('give the caller something to do: --say "…", --audio file.wav or --dtmf 1');
  if (!(o.pace > 0 && o.pace <= 50))
    throw new Error(`--pace must be a number in (0, 50], not ${o.pace}`);
  const env = await runningEdgeEnv();
  const edgeUrl = env.EDGE_PUBLIC_URL!;
  const transcriber = o.transcribe ? await createAgentTranscriber() : undefined;
  try {
    console.log(
      `[call] ${o.from} calls in with real audio (caller voice flite kal, pace ${o.pace}x); ` +
        "times are voice to voice: the caller's last word → the agent's first sound",
    );
    const report = await placeAudioCall({
      edgeUrl,
      publicUrl: edgeUrl,
      authToken: env.TWILIO_AUTH_TOKEN!,
      from: o.from,
      to: TO,
      script,
      pace: o.pace,
      ...(o.callSid && { callSid: o.callSid }),
      ...(transcriber && { transcriber }),
    });
    const v2v = report.turns.flatMap((t) =>
      t.voiceToVoiceMs === undefined ? [] : [`${Math.round(t.voiceToVoiceMs)} ms`],
    );
    console.log(
      `[call] ended by the ${report.endedBy === 'edge' ? 'agent' : 'caller'}; ` +
        `voice-to-voice: ${v2v.join(', ') || 'n/a'}; clears: ${report.clears}`,
    );
    if (o.record) {
      await writeFile(o.record, recordingWav(report.recording));
      console.log(`[call] what the caller heard (caller left, agent right): ${o.record}`);
    }
    await withClient(env, (client) => printAfterCall(client, env, report, o));
    return report;
  } finally {
    transcriber?.dispose();
  }
}

/** The workflow's transcript (what the edge's ASR heard) and the recording the edge stored. */
async function printAfterCall(
  client: Client,
  env: NodeJS.ProcessEnv,
  report: AudioCallReport,
  o: AudioCallFlags,
): Promise<void> {
  const handle = client.workflow.getHandle(report.workflowId);
  // The call closes once its recording is stored and its events are out (seconds at most).
  const result = (await handle.result()) as CallResult;
  const transcript = await handle.query(transcriptQuery);
  console.log('[call] what the edge heard and the agent said (the call transcript):');
  for (const line of transcript)
    console.log(`    ${line.speaker === 'caller' ? 'caller' : 'agent '}: ${line.text}`);
  console.log(`[call] ${result.disposition} after ${result.turns} turns, ${callLogText(result)}`);
  const rec = result.recording;
  if (!rec) console.log('[call] no recording was stored for this call');
  else {
    const bucket = rec.bucket ?? env.S3_RECORDINGS_BUCKET!;
    console.log(
      `[call] recording (two channels: caller left, agent right, ${(rec.durationMs / 1000).toFixed(1)} s): ` +
        `s3://${bucket}/${rec.key} at ${env.S3_ENDPOINT}`,
    );
    if (o.keepRecordingIn) {
      const store = new S3ObjectStore(s3Options({ ...env, S3_REGION: env.S3_REGION! }, bucket));
      const wav = await store.get(rec.key);
      if (!wav) throw new Error(`the recording s3://${bucket}/${rec.key} is not in the store`);
      await mkdir(o.keepRecordingIn, { recursive: true });
      const file = path.join(o.keepRecordingIn, `${report.callSid}.wav`);
      await writeFile(file, wav);
      console.log(`[call] recording copied to ${shortPath(file)} (${wav.length} bytes)`);
    }
  }
  console.log(`[call] Web UI: ${workflowUiUrl(report.workflowId)}`);
  if (o.awaitPostCall) {
    const post = (await client.workflow
      .getHandle(postCallWorkflowId(report.callSid))
      .result()) as PostCallResult;
    console.log(
      `[call] post-call: recording transcribed (${post.transcript?.words ?? 0} words, ` +
        `${post.transcript?.provider ?? post.transcriptMissing}); summary: "${post.summary.summary}"; ` +
        `QA flags: ${post.qaFlags.join(', ') || 'none'}`,
    );
  }
}

/** Where the demo keeps its calls' recordings. */
export const demoDir = (): string => path.join(paths().home, 'demo');

/** Where the call's CRM log stands: written, queued until the CRM is back, or refused. */
function callLogText(r: CallResult): string {
  if (r.callLogId) return `CRM call log #${r.callLogId}`;
  if (r.callLogPending) return 'CRM call log pending (queued until the CRM is back)';
  return `CRM call log not written (${r.needsReview ?? 'unknown'})`;
}
