// The engine's scores as a confidence in [0, 1].

/**
 * Maps the engine's scores onto [0, 1]. pocketsphinx normalises acoustic scores per frame
 * against the best-scoring senone, so the best path's score per frame (ps_get_hyp's score,
 * logmath → natural log, ÷ frames) says how far the words it chose are from what the audio
 * best matched: near 0 the words fit the sound; strongly negative, the search was forced
 * (off-grammar speech, noise). The confidence is a logistic over that score, fitted by
 * bench/asr-eval.ts on its corpus to P(the transcript gives the right intent) in grammar
 * mode (the bench prints the fit; these are its values). Dictation multiplies in the lattice
 * posterior of the hypothesis (ps_get_prob) per word, which drops when the LM had close
 * alternatives. Keyword mode has no path score: a detection is CONFIDENCE_KEYWORD, nothing
 * found is 0.
 */
export const CONFIDENCE_CALIBRATION = { centre: -0.006463, slope: 1274 };
export const CONFIDENCE_KEYWORD = 0.8;

export function pathConfidence(lnScorePerFrame: number): number {
  const { centre, slope } = CONFIDENCE_CALIBRATION;
  return 1 / (1 + Math.exp(-slope * (lnScorePerFrame - centre)));
}

/** The score per frame a confidence came from (the bench fits the calibration with it). */
export function scoreFromConfidence(confidence: number): number {
  const { centre, slope } = CONFIDENCE_CALIBRATION;
  const c = Math.min(1 - 1e-12, Math.max(1e-12, confidence));
  return centre + Math.log(c / (1 - c)) / slope;
}
