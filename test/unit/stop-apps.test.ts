// The launcher's stop (`./switchboard start`, Ctrl-C): every process is asked to stop and
// given the time it needs up to a bound that covers the edge's drain, the launcher says what
// it waits for, and only a process still running at the bound is killed.
import assert from 'node:assert/strict';
import { startApp, STOP_BOUND_MS, stopApps, type AppProcess } from '../../cli/processes';
import { EDGE_DRAIN_MS } from '../../media-edge/call/edge-calls';

const FIXTURE = 'test/fixtures/slow-stop-app.ts';

async function started(name: string, stopAfter: string): Promise<AppProcess> {
  const app = startApp(name, FIXTURE, { ...process.env, STOP_AFTER_MS: stopAfter }, true);
  await new Promise<void>((resolve) =>
    app.child.stdout!.on('data', (c: Buffer) => c.toString().includes('up') && resolve()),
  );
  return app;
}

describe('stopping the local apps', function () {
  this.timeout(60_000);

  it('waits for a process finishing its work past the old 10 s kill, saying what it waits for', async () => {
    assert.ok(STOP_BOUND_MS > EDGE_DRAIN_MS, 'the bound covers the edge drain');
    const slow = await started('slow', '11000');
    const quick = await started('quick', '0');
    const said: string[] = [];
    const t0 = Date.now();
    await stopApps([slow, quick], { say: (l) => said.push(l) });
    assert.equal(slow.child.signalCode, null, 'not killed');
    assert.equal(slow.child.exitCode, 0);
    assert.ok(Date.now() - t0 >= 11_000);
    assert.match(said[0]!, /stopping slow, quick/);
    assert.ok(
      said.some((l) => /still waiting for slow …/.test(l) && !/quick/.test(l)),
      said.join('\n'),
    );
    assert.ok(!said.some((l) => /killing/.test(l)));
  });

  it('kills only what is still running at the bound, and says so', async () => {
    const stuck = await started('stuck', 'never');
    const said: string[] = [];
    await stopApps([stuck], { boundMs: 1_500, say: (l) => said.push(l) });
    assert.equal(stuck.child.signalCode, 'SIGKILL');
    assert.match(said.at(-1)!, /stuck did not stop within 1.5 s: killing/);
  });
});
