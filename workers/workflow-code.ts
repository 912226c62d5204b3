// Which workflow code a worker loads. Run from dist/ (`npm run build`), the bundle built ahead
// of time, dist/workflow-bundle.js; run from source (tsx: development and tests), workflows/,
// bundled by the worker at start-up.
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowBundleOption } from '@temporalio/worker';

export const workflowsPath = require.resolve('../workflows');

/** The prebuilt bundle's file name in dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** Worker options for the workflow code: `bundle` if given, else the above. */
export function workflowCode(
  bundle?: WorkflowBundleOption,
): { workflowBundle: WorkflowBundleOption } | { workflowsPath: string } {
  if (bundle) return { workflowBundle: bundle };
  const codePath = path.join(__dirname, '..', WORKFLOW_BUNDLE_FILE);
  if (__filename.endsWith('.js') && fs.existsSync(codePath))
    return { workflowBundle: { codePath } };
  return { workflowsPath };
}
