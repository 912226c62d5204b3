// `switchboard test`: the static gates (typecheck, lint, format, dependency rules), then the
// platform up (installing on a fresh machine) and mocha over the whole suite. It ends with
// the plain line CI reads: "N passed, N failed", where each gate counts as one test.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { infraUp } from '../infra';
import { repoRoot } from '../infra/paths';

const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);

/** A check of the whole tree that runs before the suite; a failing one fails the run. */
export interface Gate {
  name: string;
  command: string;
  args: string[];
}

export const GATES: readonly Gate[] = [
  { name: 'typecheck', command: 'tsc', args: ['--noEmit'] },
  // The desk's browser client has its own project (DOM types, no Node's).
  {
    name: 'typecheck (browser client)',
    command: 'tsc',
    args: ['--noEmit', '-p', 'media-edge/desk/client'],
  },
  { name: 'lint', command: 'eslint', args: ['.'] },
  { name: 'format', command: 'prettier', args: ['--check', '.'] },
  {
    name: 'dependency rules',
    command: 'depcruise',
    args: ['--config', '.dependency-cruiser.cjs', '.'],
  },
];

export interface GateResult {
  gate: Gate;
  ok: boolean;
  ms: number;
  output: string;
}

/** Runs one gate with its output captured; printed only when it fails. */
export async function runGate(gate: Gate, cwd = repoRoot): Promise<GateResult> {
  const t0 = performance.now();
  const child = spawn(bin(gate.command), gate.args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      output += `${err.message}\n`;
      resolve(1);
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
  return { gate, ok: code === 0, ms: performance.now() - t0, output };
}

export async function runGates(gates: readonly Gate[] = GATES): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const gate of gates) {
    const shown = `${gate.command} ${gate.args.join(' ')}`;
    process.stdout.write(`[test] gate: ${gate.name} (${shown}) … `);
    const r = await runGate(gate);
    console.log(`${r.ok ? 'passed' : 'FAILED'} in ${(r.ms / 1000).toFixed(1)} s`);
    if (!r.ok) console.log(r.output.trimEnd().replace(/^/gm, '    '));
    results.push(r);
  }
  return results;
}

export async function runTests(mochaArgs: string[]): Promise<number> {
  console.log('[test] the gates, before the suite: typecheck, lint, format, dependency rules');
  const gates = await runGates();
  const gatesFailed = gates.filter((g) => !g.ok).length;
  console.log('[test] bringing up the local platform (Temporal binaries, PostgreSQL, Redis) …');
  await infraUp();
  console.log('[test] running the suite (mocha) …');
  // On the Node this process runs on (the launcher's), not whichever `node` PATH finds first.
  const mocha = path.join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const child = spawn(process.execPath, [mocha, '--reporter', 'spec', ...mochaArgs], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    process.stdout.write(c);
    out += c.toString();
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const count = (word: string) =>
    Number(new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(out)?.[1] ?? 0);
  const passed = count('passing');
  const failed = count('failing');
  // A crash before mocha's summary still counts as a failure.
  const mochaFailed = code !== 0 && failed === 0 ? 1 : failed;
  console.log(
    `[test] gates: ${gates.length - gatesFailed} passed, ${gatesFailed} failed` +
      (gatesFailed
        ? ` (${gates
            .filter((g) => !g.ok)
            .map((g) => g.gate.name)
            .join(', ')})`
        : ''),
  );
  console.log(`${passed + gates.length - gatesFailed} passed, ${mochaFailed + gatesFailed} failed`);
  return code === 0 && passed > 0 && gatesFailed === 0 ? 0 : 1;
}
