// Worker Versioning: each build of the workflow code is one version of a Worker Deployment,
// and every call is pinned to the version it started on. A new build serves new calls once it
// is made current; calls in progress finish on the code they started with, so a change to the
// call workflow needs no patch for them (patches remain for runs on unversioned workers).
import { createHash } from 'node:crypto';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';

export type { WorkerDeploymentVersion } from '@temporalio/common';

/** The worker options that make a worker a pinned version of a deployment (none without one). */
export function versioningOptions(
  version?: WorkerDeploymentVersion,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!version) return {};
  return {
    workerDeploymentOptions: {
      useWorkerVersioning: true,
      version,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

/** WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID, both or neither. */
export function deploymentVersionFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): WorkerDeploymentVersion | undefined {
  const deploymentName = env.WORKER_DEPLOYMENT_NAME?.trim();
  const buildId = env.WORKER_BUILD_ID?.trim();
  if (!deploymentName && !buildId) return undefined;
  if (!deploymentName || !buildId) {
    throw new Error(
      'invalid worker configuration: WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID go together ' +
        `(got ${deploymentName ? 'no WORKER_BUILD_ID' : 'no WORKER_DEPLOYMENT_NAME'})`,
    );
  }
  return { deploymentName, buildId };
}

/** A build id from the workflow code itself: the same code is the same version. */
export function buildIdOf(workflowCode: string | Buffer): string {
  return createHash('sha256').update(workflowCode).digest('hex').slice(0, 12);
}

/**
 * Makes a version current: new workflows on its task queues start on it. The server refuses
 * until the version's workers have polled (they may not have reached it yet), so this asks
 * again until `timeoutMs`, then fails with the server's last reason.
 */
export async function makeCurrentVersion(
  connection: Pick<Connection, 'workflowService'>,
  namespace: string,
  version: WorkerDeploymentVersion,
  opts: { timeoutMs?: number; identity?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      await connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity: opts.identity ?? 'switchboard',
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(
          `could not make ${version.deploymentName}.${version.buildId} current: ${reason}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
