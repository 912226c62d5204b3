// What the softmax layer sees: the sentence embedding (meaning) next to hashed word and
// character n-grams of the normalized text (surface form). The n-grams catch what a
// recognizer does to words — "bal lance", "out age", "by my bill" — that a small
// embedding model maps poorly; both parts have unit length, so neither dominates.

/** A feature vector as parallel index/value arrays (the n-gram part is sparse). */
export interface Features {
  idx: Int32Array;
  val: Float32Array;
}

export const NGRAM_BUCKETS = 4096;

/** FNV-1a, 32 bit: a stable hash, so a model file's buckets mean the same everywhere. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hashed counts of words, word pairs and character 3–5-grams of the space-free text. */
export function ngramCounts(normalized: string, buckets = NGRAM_BUCKETS): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (key: string) => {
    const b = fnv1a(key) % buckets;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  };
  const words = normalized.split(' ').filter(Boolean);
  words.forEach((w, i) => {
    add(`w:${w}`);
    if (i > 0) add(`b:${words[i - 1]} ${w}`);
  });
  // Without spaces, a word split or joined by the recognizer keeps most of its n-grams.
  const joined = `^${words.join('')}$`;
  for (let n = 3; n <= 5; n++)
    for (let i = 0; i + n <= joined.length; i++) add(`c:${joined.slice(i, i + n)}`);
  return counts;
}

/** [embedding (dims) | n-grams (buckets)], each part L2-normalized. */
export function featurize(
  embedding: Float32Array,
  normalized: string,
  buckets = NGRAM_BUCKETS,
): Features {
  const counts = [...ngramCounts(normalized, buckets)].sort((a, b) => a[0] - b[0]);
  const d = embedding.length;
  const idx = new Int32Array(d + counts.length);
  const val = new Float32Array(d + counts.length);
  for (let i = 0; i < d; i++) {
    idx[i] = i;
    val[i] = embedding[i]!;
  }
  const norm = Math.sqrt(counts.reduce((s, [, c]) => s + c * c, 0)) || 1;
  counts.forEach(([b, c], j) => {
    idx[d + j] = d + b;
    val[d + j] = c / norm;
  });
  return { idx, val };
}
