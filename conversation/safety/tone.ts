// Keeps the agent polite whatever the caller says: an answer sentence with profanity,
// an insult or a hostile phrase is refused (a model can mirror an abusive caller).
export type ToneCheck = { ok: true } | { ok: false; phrase: string };

// Word stems; matched as whole words with common endings.
const PROFANITY = [
  'fuck',
  'shit',
  'bitch',
  'bastard',
  'asshole',
  'dick',
  'damn',
  'crap',
  'piss',
  'cunt',
  'bullshit',
  'wtf',
];
const INSULTS = [
  'idiot',
  'stupid',
  'moron',
  'dumb',
  'loser',
  'pathetic',
  'useless',
  'incompetent',
  'ignorant',
  'jerk',
  'fool',
];
const HOSTILE = [
  /\bshut up\b/i,
  /\bgo away\b/i,
  /\bget lost\b/i,
  /\bhow dare you\b/i,
  /\bnot my problem\b/i,
  /\byour (?:own )?fault\b/i,
  /\bi don'?t care\b/i,
  /\bstop (?:whining|complaining)\b/i,
];
const WORDS = new RegExp(
  `\\b(?:${[...PROFANITY, ...INSULTS].join('|')})(?:s|es|ed|ing|er|ers|y|ty)?\\b`,
  'i',
);

/** Reply when the caller is abusive: calm, no mirroring, a way forward. */
export const CALM_REPLY =
  "I understand you're frustrated, and I want to help. What can I do for you with your account?";

export function checkTone(sentence: string): ToneCheck {
  const m = WORDS.exec(sentence) ?? HOSTILE.map((re) => re.exec(sentence)).find(Boolean);
  return m ? { ok: false, phrase: m[0] } : { ok: true };
}
