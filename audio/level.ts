// How loud a stretch of 16-bit PCM is.

/** Root-mean-square level (0 for no samples): line hiss is ≈ 100, speech well above 500. */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let energy = 0;
  for (let i = 0; i < pcm.length; i++) energy += pcm[i]! * pcm[i]!;
  return Math.sqrt(energy / pcm.length);
}
