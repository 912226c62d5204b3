// Where tests find the Temporal CLI (dev server). One place, so switching to the infra
// installer is a one-line change.
export async function temporalCliPath(): Promise<string> {
  return process.env.TEMPORAL_CLI_PATH ?? '/tmp/tb/v/bin/temporal';
}
