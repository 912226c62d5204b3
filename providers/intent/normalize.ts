// Recognizers differ in casing and punctuation ("What's my balance?" vs "whats my balance");
// the model sees one form: lowercase words and apostrophes, single spaces.
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
