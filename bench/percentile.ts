/** The benchmarks' percentile: the sample at rank ⌊p/100 · n⌋ (nearest rank, no interpolation). */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** p50, p95 and p99 of a sample, rounded to two decimals. */
export const spread = (xs: number[]) => ({
  p50: +pct(xs, 50).toFixed(2),
  p95: +pct(xs, 95).toFixed(2),
  p99: +pct(xs, 99).toFixed(2),
});
