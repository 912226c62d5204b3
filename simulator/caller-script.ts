// What the simulated caller does, in order, from command-line flags:
//   --say "text"            speak a line (synthesized offline in the caller's voice)
//   --audio file.wav        play a recording (16-bit PCM WAV, any rate; resampled to 8 kHz)
//   --dtmf 1#               press keys
//   --pause 2000            stay silent (line noise only) for this many ms
//   --hangup                hang up (the script's end hangs up as well)
//   --interrupt-after 800   the next step starts 800 ms after the agent starts its reply
//                           instead of after it finishes (barge-in)
// Order matters and commander merges repeated options per name, so the flags are read here
// from the raw arguments; everything else is handed back untouched.

export type CallerScriptItem =
  | { kind: 'say'; text: string; interruptAfterMs?: number }
  | { kind: 'audio'; path: string; interruptAfterMs?: number }
  | { kind: 'dtmf'; digits: string; interruptAfterMs?: number }
  | { kind: 'pause'; ms: number }
  | { kind: 'hangup'; interruptAfterMs?: number };

export interface ParsedCallerScript {
  items: CallerScriptItem[];
  /** Arguments that are not script flags, in their original order. */
  rest: string[];
}

export class CallerScriptError extends Error {
  override readonly name = 'CallerScriptError';
}

const VALUE_FLAGS = new Set(['--say', '--audio', '--dtmf', '--pause', '--interrupt-after']);
const FLAGS = new Set([...VALUE_FLAGS, '--hangup']);
/** Longest pause or interrupt delay accepted: a typo, not a plan, beyond ten minutes. */
const MAX_MS = 600_000;
export const DTMF_DIGITS = /^[0-9*#A-Da-d]+$/;

function milliseconds(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new CallerScriptError(`${flag} takes whole milliseconds, got "${value}"`);
  }
  const ms = Number(value);
  if (ms > MAX_MS) throw new CallerScriptError(`${flag} is at most ${MAX_MS} ms, got ${ms}`);
  return ms;
}

/** Reads the script flags (also as --flag=value) in order; throws CallerScriptError. */
export function parseCallerScript(args: readonly string[]): ParsedCallerScript {
  const items: CallerScriptItem[] = [];
  const rest: string[] = [];
  let interruptAfterMs: number | undefined;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!FLAGS.has(flag)) {
      rest.push(arg);
      continue;
    }
    let value = '';
    if (VALUE_FLAGS.has(flag)) {
      if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i]!;
      else throw new CallerScriptError(`${flag} needs a value`);
    } else if (eq > 0) {
      throw new CallerScriptError(`${flag} takes no value`);
    }

    if (flag === '--interrupt-after') {
      if (interruptAfterMs !== undefined) {
        throw new CallerScriptError('--interrupt-after twice in a row');
      }
      interruptAfterMs = milliseconds(flag, value);
      continue;
    }
    const interrupt = interruptAfterMs === undefined ? {} : { interruptAfterMs };
    switch (flag) {
      case '--say':
        if (!value.trim()) throw new CallerScriptError('--say needs some text');
        items.push({ kind: 'say', text: value, ...interrupt });
        break;
      case '--audio':
        if (!value) throw new CallerScriptError('--audio needs a WAV file');
        items.push({ kind: 'audio', path: value, ...interrupt });
        break;
      case '--dtmf':
        if (!DTMF_DIGITS.test(value)) {
          throw new CallerScriptError(`--dtmf takes keypad keys (0-9, *, #, A-D), got "${value}"`);
        }
        items.push({ kind: 'dtmf', digits: value, ...interrupt });
        break;
      case '--pause':
        if (interruptAfterMs !== undefined) {
          throw new CallerScriptError(
            '--interrupt-after applies to --say, --audio, --dtmf or --hangup, not --pause',
          );
        }
        items.push({ kind: 'pause', ms: milliseconds(flag, value) });
        break;
      case '--hangup':
        items.push({ kind: 'hangup', ...interrupt });
        break;
    }
    interruptAfterMs = undefined;
  }
  if (interruptAfterMs !== undefined) {
    throw new CallerScriptError('--interrupt-after must be followed by what the caller does');
  }
  return { items, rest };
}

/** A short human-readable form of one step, for the printed conversation. */
export function describeItem(item: CallerScriptItem): string {
  switch (item.kind) {
    case 'say':
      return item.text;
    case 'audio':
      return `[audio ${item.path}]`;
    case 'dtmf':
      // One key is a menu choice; several may be a PIN or a card number: never printed.
      return item.digits.length === 1
        ? `[presses ${item.digits}]`
        : `[presses ${item.digits.length} keys]`;
    case 'pause':
      return `[silent ${item.ms} ms]`;
    case 'hangup':
      return '[hangs up]';
  }
}
