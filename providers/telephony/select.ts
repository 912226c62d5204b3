// The telephony chain a process runs with: Twilio when its credentials are set, else a link
// that says why it is skipped (a transfer then fails and the caller is told). The worker
// transfers and calls back with it; the edge briefs a warm transfer's agent with it.
import type { FallbackGate } from '../fallback';
import { FallbackTelephony } from './fallback';
import { twilioMissingConfig, TwilioTelephony } from './twilio';

export function telephonyFromEnv(
  gate: FallbackGate | undefined,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): FallbackTelephony {
  const missing = twilioMissingConfig(env);
  if (missing) log(`telephony: ${missing}; transfers, callbacks and briefings will fail`);
  return new FallbackTelephony(
    [
      missing
        ? { provider: 'twilio', skipReason: missing }
        : { provider: 'twilio', port: new TwilioTelephony(env) },
    ],
    gate,
  );
}
