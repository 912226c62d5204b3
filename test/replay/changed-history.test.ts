// The replay test would be worthless if a changed history replayed anyway: these replay
// recorded histories after altering them and expect the worker to refuse them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../testing/platform';

interface JsonEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  markerRecordedEventAttributes?: {
    markerName: string;
    details: Record<string, { payloads: { data: string }[] }>;
  };
}

const load = (name: string): { events: JsonEvent[] } =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), 'utf8'));

async function replay(name: string, history: { events: JsonEvent[] }): Promise<unknown> {
  try {
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle() },
      historyFromJSON(history),
      name,
    );
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('replay refuses a changed history', () => {
  it('replays the history unchanged (the control)', async () => {
    assert.equal(await replay('events-per-turn', load('events-per-turn')), undefined);
  });

  it('fails when one command in the history is altered (another activity type)', async () => {
    const history = load('events-per-turn');
    const scheduled = history.events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'writeCallLog',
    );
    assert.ok(scheduled, 'the history writes a call log');
    scheduled.activityTaskScheduledEventAttributes!.activityType.name = 'deleteCallLog';
    const err = await replay('events-per-turn-altered', history);
    assert.ok(
      err instanceof DeterminismViolationError,
      `expected nondeterminism, got ${String(err)}`,
    );
    assert.match(err.message, /deleteCallLog|writeCallLog/);
  });

  it('fails on a history from code that published events without the data-plane patch', async () => {
    // The same commands with the patch marker renamed: what code that skipped patched()
    // would have recorded. The current code takes the branch without events and meets
    // the history's publishEvents.
    const history = load('events-per-turn');
    const marker = history.events.find((e) => {
      const data = e.markerRecordedEventAttributes?.details['patch-data']?.payloads[0]?.data;
      return data && Buffer.from(data, 'base64').toString().includes('"data-plane"');
    });
    assert.ok(marker, 'the history has the data-plane marker');
    const payload = marker.markerRecordedEventAttributes!.details['patch-data']!.payloads[0]!;
    payload.data = Buffer.from(
      Buffer.from(payload.data, 'base64').toString().replace('"data-plane"', '"unguarded"'),
    ).toString('base64');
    const err = await replay('events-per-turn-unguarded', history);
    assert.ok(
      err instanceof DeterminismViolationError,
      `expected nondeterminism, got ${String(err)}`,
    );
  });
});
