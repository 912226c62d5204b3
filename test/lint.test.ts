// The workflow determinism rules are enforced by lint: workflow code passes, and
// each forbidden construct in a workflow file is reported.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = path.join(__dirname, '..');

describe('lint: workflow determinism rules', () => {
  const eslint = new ESLint({ cwd: root });
  // Probes are no files of the TypeScript project: they are linted without type information.
  const untyped = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

  it('workflows/ is clean', async () => {
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    const problems = results.flatMap((r) =>
      r.messages.map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.message}`),
    );
    assert.deepEqual(problems, []);
  });

  it('reports I/O, clocks, randomness, timers and runtime imports from activities in a workflow file', async () => {
    const probe = [
      "import fs from 'node:fs';",
      "import { failure } from '../activities/errors';",
      "import type { CallActivities } from '../activities/call-activities';",
      'export const a = [process.env.X, Date.now(), Math.random(), fs, failure];',
      'setTimeout(() => undefined, 1);',
      'export type T = CallActivities;',
    ].join('\n');
    const [result] = await untyped.lintText(probe, {
      filePath: path.join(root, 'workflows', 'probe.ts'),
    });
    const rules = result!.messages.map((m) => m.ruleId).sort();
    assert.deepEqual(rules, [
      'no-restricted-globals',
      'no-restricted-globals',
      'no-restricted-imports',
      'no-restricted-imports',
      'no-restricted-properties',
      'no-restricted-properties',
    ]);
  });

  it('holds a file in a folder of workflows/ (workflows/call/) to the same imports', async () => {
    const probe = [
      "import { CallBridge } from '../../media-edge/call/bridge';",
      "import { failure } from '../../activities/errors';",
      "import type { EventDraft } from '../../activities/ports';",
      "import { DEFAULT_CALL_CONFIG } from '../definitions';",
      "import { step } from '../call-state';",
      'export const a = [CallBridge, failure, DEFAULT_CALL_CONFIG, step, Date.now()];',
      'export type T = EventDraft;',
    ].join('\n');
    const [result] = await untyped.lintText(probe, {
      filePath: path.join(root, 'workflows', 'call', 'probe.ts'),
    });
    const rules = result!.messages.map((m) => `${m.line}:${m.ruleId}`).sort();
    assert.deepEqual(rules, [
      '1:no-restricted-imports',
      '2:no-restricted-imports',
      '6:no-restricted-properties',
    ]);
  });
});
