/** The benchmarks' percentile: the sample at rank ⌊p/100 · n⌋ (nearest rank, no interpolation). */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
