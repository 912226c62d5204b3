// Twilio CallSids for the simulated callers: random by default, or one given by support or a
// test (a known sid to look a call up by, or one whose hex holds a chosen digit run).
import { randomBytes } from 'node:crypto';

/** A Twilio CallSid: `CA` and 32 hex characters. */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;

/** A fresh random CallSid. */
export const randomCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;

/** `sid` when it is a CallSid, else an Error that names the bad value. */
export function checkCallSid(sid: string): string {
  if (!CALL_SID_PATTERN.test(sid))
    throw new Error(
      `invalid CallSid ${JSON.stringify(sid)}: expected CA followed by 32 hex characters`,
    );
  return sid;
}

/** The sid a simulated call uses: the one given (checked), or a random one. */
export const callSidFor = (given: string | undefined): string =>
  given === undefined ? randomCallSid() : checkCallSid(given);
