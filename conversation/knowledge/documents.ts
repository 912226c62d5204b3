// Reads a knowledge-base folder: <folder>/<topic>/**/*.md|txt, the topic from the first
// folder. Files at the top level (README, eval.json) describe the KB and are not part of it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KbTopic } from '../../providers/vectors/port';
import type { KbDocument } from './chunker';

export const KB_TOPICS: readonly KbTopic[] = ['billing', 'plans', 'outages', 'policies'];
const DOC_EXT = /\.(md|markdown|txt)$/i;

export const isKbTopic = (s: string): s is KbTopic => (KB_TOPICS as readonly string[]).includes(s);

export async function loadKnowledgeFolder(folder: string): Promise<KbDocument[]> {
  const root = path.resolve(folder);
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch (err) {
    throw new Error(`cannot read the knowledge-base folder ${folder}: ${(err as Error).message}`);
  }
  const docs: KbDocument[] = [];
  for (const rel of entries.sort()) {
    const docId = rel.split(path.sep).join('/');
    if (!DOC_EXT.test(docId) || !docId.includes('/')) continue;
    const folderName = docId.split('/')[0]!;
    if (!isKbTopic(folderName))
      throw new Error(
        `${path.join(folder, rel)}: folder "${folderName}" is not a topic (${KB_TOPICS.join(' | ')})`,
      );
    docs.push({
      docId,
      topic: folderName,
      source: await readFile(path.join(root, rel), 'utf8'),
    });
  }
  if (!docs.length)
    throw new Error(
      `no documents in ${folder}: expected <topic>/<name>.md with topic ${KB_TOPICS.join(' | ')}`,
    );
  return docs;
}
