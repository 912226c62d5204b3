// The gates of `switchboard test`: each runs a tool of node_modules/.bin and fails on its
// non-zero exit, with its output kept to print.
import assert from 'node:assert/strict';
import { GATES, runGate } from '../../cli/test-runner';

describe('test runner gates', () => {
  it('typecheck, lint, format and the dependency rules run before the suite', () => {
    assert.deepEqual(
      GATES.map((g) => g.name),
      ['typecheck', 'typecheck (browser client)', 'lint', 'format', 'dependency rules'],
    );
  });

  it('a gate passes on exit 0 and fails, with its output, otherwise', async () => {
    const ok = await runGate({ name: 'ok', command: 'tsc', args: ['--version'] });
    assert.equal(ok.ok, true);
    assert.match(ok.output, /Version/);
    const bad = await runGate({ name: 'bad', command: 'tsc', args: ['--no-such-flag'] });
    assert.equal(bad.ok, false);
    assert.match(bad.output, /no-such-flag/);
    const missing = await runGate({ name: 'missing', command: 'no-such-tool', args: [] });
    assert.equal(missing.ok, false);
  });
});
