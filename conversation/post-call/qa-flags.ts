// QA flags of a finished call: what a supervisor should look at. Pure; the flag names are
// documented in call.analyzed.v1.json and docs/events.md.
import type { PostCallInput } from '../../contracts/post-call';

export interface QaFacts extends Pick<
  PostCallInput,
  'fallbacks' | 'lowConfidenceTurns' | 'transferred' | 'refusedAnswers' | 'disposition'
> {
  transcriptMissing?: 'no_recording' | 'transcription_failed';
  transcriptWords?: number;
}

/** Lower-case, [a-z0-9_.-] only: a provider or stage name as the flag schema allows it. */
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60) || 'unknown';

export function qaFlags(f: QaFacts): string[] {
  const flags: string[] = [];
  if (f.transferred || f.disposition === 'transferred') flags.push('escalated');
  if (f.lowConfidenceTurns > 0) flags.push('low_confidence');
  if (f.fallbacks.length > 0) {
    flags.push('fallback_used');
    // `tts:flite` → fallback:tts:flite; a bare provider name → fallback:flite.
    for (const fb of f.fallbacks) flags.push(`fallback:${fb.split(':').map(slug).join(':')}`);
  }
  if ((f.refusedAnswers ?? 0) > 0) flags.push('refused_answers');
  if (f.transcriptMissing) flags.push(f.transcriptMissing);
  else if (f.transcriptWords === 0) flags.push('empty_transcript');
  return [...new Set(flags)];
}
