// The `switchboard` command line: ./switchboard --help
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { registerInfraCommands } from '../infra/cli';
import { registerIntentCommand } from './intent';
import { registerKbCommands } from './kb';
import { registerReportCommand } from './report';
import { registerWarehouseCommand } from './warehouse';
import { infraUp, temporalNamespace, temporalUiUrl } from '../infra';
import { repoRoot } from '../infra/paths';
import { parseCallerScript } from '../simulator/caller-script';
import { placeTextCall, type TextCallReport } from '../simulator/text-call';
import { createAgentTranscriber, placeAudioCall, recordingWav } from '../simulator/twilio-caller';
import { localEnv } from './dev-env';
import { startSystem } from './system';
import { runTests } from './test-runner';

const program = new Command('switchboard').description(
  'AI agent for inbound customer-service calls, on Temporal',
);
registerInfraCommands(program);
registerIntentCommand(program);
registerKbCommands(program);
registerWarehouseCommand(program);
registerReportCommand(program);

function fail(err: unknown): never {
  console.error(`[switchboard] error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

function uiLink(report: TextCallReport): string {
  return `${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows/${report.workflowId}/${report.runId}/history`;
}

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

async function call(lines: string[], from: string): Promise<TextCallReport> {
  const env = await runningEdgeEnv();
  const edgeUrl = env.EDGE_PUBLIC_URL!;
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE! });
    console.log(`[call] ${from} calls in, saying: ${lines.map((l) => `"${l}"`).join(', ')}`);
    const report = await placeTextCall({
      client,
      edgeUrl,
      publicUrl: env.EDGE_PUBLIC_URL!,
      authToken: env.TWILIO_AUTH_TOKEN!,
      from,
      to: '+15550009999',
      lines,
    });
    const { disposition, turns, callLogId } = report.result;
    console.log(`[call] ended: ${disposition} after ${turns} turns, CRM call log #${callLogId}`);
    console.log(`[call] Web UI: ${uiLink(report)}`);
    return report;
  } finally {
    await connection.close();
  }
}

const collect = (v: string, acc: string[]) => [...acc, v];

program
  .command('start')
  .description('start the platform, the call worker and the media-edge; Ctrl-C stops them')
  .action(async () => {
    const system = await startSystem().catch(fail);
    console.log(
      '[switchboard] running. Place a call with: ./switchboard call --say "what\'s my balance" --say goodbye',
    );
    const stop = async () => {
      await system.stop();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

interface AudioCallFlags {
  from: string;
  pace: string;
  transcribe?: boolean;
  record?: string;
}

async function audioCall(argv: string[], o: AudioCallFlags): Promise<void> {
  const { items } = parseCallerScript(argv); // in the order given: commander groups options by name
  if (!items.some((i) => i.kind === 'say' || i.kind === 'audio' || i.kind === 'dtmf'))
    throw new Error('give the caller something to do: --say "…", --audio file.wav or --dtmf 1');
  const pace = Number(o.pace);
  if (!(pace > 0 && pace <= 50))
    throw new Error(`--pace must be a number in (0, 50], not ${o.pace}`);
  const env = await runningEdgeEnv();
  const edgeUrl = env.EDGE_PUBLIC_URL!;
  const transcriber = o.transcribe ? await createAgentTranscriber() : undefined;
  try {
    console.log(
      `[call] ${o.from} calls in with real audio (caller voice flite kal, pace ${pace}x)`,
    );
    const report = await placeAudioCall({
      edgeUrl,
      publicUrl: edgeUrl,
      authToken: env.TWILIO_AUTH_TOKEN!,
      from: o.from,
      to: '+15550009999',
      script: items,
      pace,
      ...(transcriber && { transcriber }),
    });
    const v2v = report.turns.flatMap((t) =>
      t.voiceToVoiceMs === undefined ? [] : [t.voiceToVoiceMs],
    );
    console.log(
      `[call] ended by the ${report.endedBy === 'edge' ? 'agent' : 'caller'}; voice-to-voice: ` +
        `${v2v.map((ms) => `${Math.round(ms)} ms`).join(', ') || 'n/a'}; clears: ${report.clears}`,
    );
    if (o.record) {
      await writeFile(o.record, recordingWav(report.recording));
      console.log(`[call] recording (caller left, agent right): ${o.record}`);
    }
    console.log(
      `[call] Web UI: ${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows/${report.workflowId}`,
    );
  } finally {
    transcriber?.dispose();
  }
}

program
  .command('call')
  .description(
    'place a simulated call (Twilio webhook + Media Streams with real audio) and print the conversation',
  )
  .option(
    '--say <text>',
    'the caller says this (offline voice flite kal); repeatable, in order',
    collect,
    [],
  )
  .option(
    '--audio <file>',
    'the caller plays this WAV (16-bit PCM, any rate); repeatable',
    collect,
    [],
  )
  .option('--dtmf <keys>', 'the caller presses these keys', collect, [])
  .option('--pause <ms>', 'the caller stays silent this long', collect, [])
  .option(
    '--interrupt-after <ms>',
    'start the next step this long after the agent starts replying (barge-in)',
    collect,
    [],
  )
  .option('--hangup', 'hang up here (the end of the script hangs up too)')
  .option(
    '--from <number>',
    'caller number (demo customers: +15550100001 … +15550100005)',
    '+15550100001',
  )
  .option('--pace <x>', 'audio speed: 1 real time, 4 four times faster', '1')
  .option('--transcribe', "transcribe the agent's replies with pocketsphinx after the call")
  .option('--record <file.wav>', 'save both sides as a two-channel WAV (caller left, agent right)')
  .option('--text', "text-level call without audio (the simulator plays the edge's part)")
  .action(async (o: AudioCallFlags & { say: string[]; text?: boolean }) => {
    if (o.text) {
      if (!o.say.length) fail('give at least one --say "<what the caller says>"');
      await call(o.say, o.from).catch(fail);
      return;
    }
    await audioCall(process.argv.slice(2), o).catch(fail);
  });

program
  .command('demo')
  .description(
    'start everything, place demonstration calls end to end, stop the app (the platform stays up)',
  )
  .action(async () => {
    const system = await startSystem().catch(fail);
    try {
      console.log('\n[demo] 1. a balance question');
      await call(["what's my balance", 'goodbye'], '+15550100001');
      console.log('\n[demo] 2. paying a bill, with confirmation');
      await call(['I want to pay my bill', 'yes', 'goodbye'], '+15550100002');
      console.log('\n[demo] 3. an unclear request, then an agent');
      await call(['uh', 'can I talk to a real person'], '+15550100004');
      console.log('\n[demo] 4. a knowledge-base question, answered while it is generated');
      await call(['what is the late fee', 'goodbye'], '+15550100001');
      console.log("\n[demo] 5. today's report from the warehouse (events via Kafka)");
      // The call workflow publishes its last events as it closes: give the loader a moment.
      await new Promise((r) => setTimeout(r, 3000));
      const { runReport } = await import('./report');
      const run = await runReport({ day: new Date().toISOString().slice(0, 10), load: false });
      console.log(run.text);
      console.log(`\nLatency chart: ${run.chartPath}`);
    } catch (err) {
      await system.stop();
      fail(err);
    }
    await system.stop();
    console.log(
      `\n[demo] done. Browse the calls in the Temporal Web UI: ${temporalUiUrl()}/namespaces/${temporalNamespace()}/workflows`,
    );
  });

program
  .command('bench')
  .description('per-turn orchestration overhead through Temporal vs. in-process (p50/p95/p99)')
  .option('--calls <n>', 'concurrent calls (default: both scenarios below)')
  .option('--turns <n>', 'turns per call')
  .option('--think <ms>', 'pause between a reply and the next utterance', '0')
  .option('--voice', 'only the voice-to-voice benchmark (real audio through the local stack)')
  .option('--no-voice', 'skip the voice-to-voice benchmark')
  .option(
    '--capacity',
    'only the edge capacity benchmark (concurrent calls until voice-to-voice p95 doubles)',
  )
  .option(
    '--language',
    'only intent, retrieval and time to the first sentence of a grounded answer',
  )
  .option('--loader', 'only the warehouse loader: batched vs one event per transaction')
  .action(async (o: { calls?: string; turns?: string; think: string; voice?: boolean }) => {
    if (process.argv.includes('--loader')) {
      const { runLoaderBench } = await import('../bench/loader');
      await runLoaderBench().catch(fail);
      process.exit(0);
    }
    if (process.argv.includes('--capacity')) {
      await infraUp();
      const { runCapacityBench } = await import('../bench/voice');
      await runCapacityBench().catch(fail);
      return;
    }
    const languageOnly = process.argv.includes('--language');
    if (languageOnly || !process.argv.includes('--voice')) {
      await infraUp();
      const { runLanguageBench } = await import('../bench/language');
      await runLanguageBench().catch(fail);
      // The models (ONNX, PGlite, llama.cpp) keep handles open: done is done.
      if (languageOnly) process.exit(0);
    }
    const voiceOnly = process.argv.includes('--voice');
    if (!voiceOnly) await orchestration(o);
    if (!voiceOnly) await (await import('../bench/loader')).runLoaderBench().catch(fail);
    if (o.voice !== false) {
      console.log(
        '\n[bench] voice to voice (5 concurrent calls × 4 rounds × 5 turns = 100 turns, real-time pace)',
      );
      await infraUp();
      const { runVoiceBench } = await import('../bench/voice');
      await runVoiceBench({ calls: 5, rounds: 4 }).catch(fail);
    }
  });

async function orchestration(o: { calls?: string; turns?: string; think: string }): Promise<void> {
  const { runOrchestrationBench } = await import('../bench/orchestration');
  const scenarios = o.calls
    ? [
        {
          name: 'custom',
          calls: Number(o.calls),
          turnsPerCall: Number(o.turns ?? 60),
          thinkMs: Number(o.think),
        },
      ]
    : [
        // Callers listen to the reply before they speak again: a busy line's real pace.
        { name: 'paced', calls: 20, turnsPerCall: 25, thinkMs: 1000 },
        // Every caller answers instantly: the latency when the machine is saturated.
        { name: 'saturated', calls: 10, turnsPerCall: 60, thinkMs: 0 },
      ];
  for (const { name, ...opts } of scenarios) {
    console.log(`\n[bench] scenario "${name}"`);
    await runOrchestrationBench({
      ...opts,
      out: path.join(repoRoot, 'bench', 'results', name),
    }).catch(fail);
  }
}

program
  .command('test')
  .description(
    'install and start what the tests need, run the whole suite, print "N passed, N failed"',
  )
  .argument('[mocha-args...]', 'extra mocha arguments, e.g. --grep replay')
  .action(async (args: string[]) => {
    process.exitCode = await runTests(args).catch(fail);
  });

program.parseAsync().catch(fail);
