// One-line logs for the Temporal runtime (the SDK's default prints multi-line objects).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { redactText } from '../activities/safety/redact';

export function installCompactLogging(
  level: LogLevel = (process.env.LOG_LEVEL?.toUpperCase() as LogLevel) || 'INFO',
): void {
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
      const { sdkComponent, taskQueue, workflowId, activityType, error } = (meta ?? {}) as Record<
        string,
        unknown
      >;
      const ctx = {
        sdkComponent,
        taskQueue,
        workflowId,
        activityType,
        ...(error ? { error: String(error) } : {}),
      };
      const fields = Object.entries(ctx)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      // Workflow and activity errors can quote the caller: no card number or PIN in a log line.
      console.log(redactText(`${l} ${message}${fields ? ` ${fields}` : ''}`));
    }),
  });
}

/** For bundleWorkflowCode: only warnings and errors. */
export const quietBundleLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (msg: string) => console.warn(msg),
  error: (msg: string) => console.error(msg),
};
