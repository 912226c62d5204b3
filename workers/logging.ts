// One-line logs for the Temporal runtime (the SDK's default prints multi-line objects).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { redactText } from '../conversation/safety/redact';

/** The structured fields a runtime log line shows, in this order; all but `error` are ids. */
const LINE_FIELDS = ['sdkComponent', 'taskQueue', 'workflowId', 'activityType'] as const;

/** An Error as `Name: message`; anything else as JSON (not `[object Object]`). */
const errorText = (e: unknown): string =>
  e instanceof Error ? String(e) : typeof e === 'string' ? e : JSON.stringify(e);

/**
 * One runtime log line: `LEVEL message key=value …`. Workflow and activity errors can
 * quote the caller, so the message and the error text are redacted (no card number or PIN
 * in a log line); the id fields are printed as they are, so logs can be searched by call.
 */
export function formatRuntimeLogLine(level: string, message: string, meta?: unknown): string {
  const m = (meta ?? {}) as Record<string, unknown>;
  const fields = LINE_FIELDS.filter((k) => m[k] !== undefined).map((k) => `${k}=${String(m[k])}`);
  // The message is the error's context: "wrong pin" + "1234" is a secret once joined.
  if (m.error) fields.push(`error=${redactText(errorText(m.error), { contextBefore: message })}`);
  return `${level} ${redactText(message)}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}

export function installCompactLogging(
  level: LogLevel = (process.env.LOG_LEVEL?.toUpperCase() as LogLevel) || 'INFO',
): void {
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
      console.log(formatRuntimeLogLine(l, message, meta));
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
