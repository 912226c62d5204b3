// `switchboard test`: brings the platform up (installing on a fresh machine), runs mocha
// over the whole suite, and ends with the plain line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import path from 'node:path';
import { infraUp } from '../infra';
import { repoRoot } from '../infra/paths';

export async function runTests(mochaArgs: string[]): Promise<number> {
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
  const failedTotal = code !== 0 && failed === 0 ? 1 : failed;
  console.log(`${passed} passed, ${failedTotal} failed`);
  return code === 0 && passed > 0 ? 0 : 1;
}
