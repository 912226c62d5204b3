// docs/configuration.md against the code: every environment variable the source reads is
// documented there, and every variable documented there is read somewhere. The source is
// the .ts under the process folders (not test/ or testing/, whose variables are the tests' own).
//
// A variable counts as read when the code names it in one of these ways:
//   - process.env.NAME, env.NAME, process.env['NAME'], env['NAME'];
//   - a key of a zod schema in a file that imports zod (the env loaders: workers/config.ts,
//     media-edge/config.ts, providers/llm/config.ts, …): `NAME: z.string()…`;
//   - the argument of a helper that reads the environment by a computed name (DYNAMIC below).
// A read by a computed name that no DYNAMIC entry resolves fails the test: a new one must be
// resolved here and its pattern documented.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_DIRS = [
  'contracts',
  'audio',
  'providers',
  'conversation',
  'analytics',
  'activities',
  'workers',
  'media-edge',
  'cli',
  'infra',
  'simulator',
  'bench',
  'workflows',
  'scripts',
];
const DOC = path.join(ROOT, 'docs', 'configuration.md');

/** Reads by a computed name, and where the names they are given come from. */
const DYNAMIC: { file: string; read: RegExp; names: RegExp }[] = [
  // envPort('TEMPORAL_PORT', 7233) reads process.env[name].
  { file: 'infra/paths.ts', read: /process\.env\[name\]/, names: /\benvPort\(\s*'([A-Z0-9_]+)'/g },
  // snowflakeOptionsFromEnv: need('SNOWFLAKE_ACCOUNT') reads env[name].
  {
    file: 'providers/warehouse/snowflake.ts',
    read: /\benv\[name\]/,
    names: /\bneed\(\s*'([A-Z0-9_]+)'/g,
  },
  // OpenAiLanguageModel reads its key from the variable its options name (apiKeyEnv).
  {
    file: 'providers/llm/openai.ts',
    read: /\benv\[this\.opts\.apiKeyEnv\]/,
    names: /\bapiKeyEnv:\s*'([A-Z0-9_]+)'/g,
  },
];

export interface SourceFile {
  file: string;
  text: string;
}

/** Block comments that start a line and // comments go: prose may name variables freely. */
export function stripComments(text: string): string {
  return text.replace(/^[ \t]*\/\*[\s\S]*?\*\//gm, '').replace(/(^|[^:'"`\w])\/\/.*$/gm, '$1');
}

export interface Scan {
  /** Variable → the files that read it. */
  reads: Map<string, Set<string>>;
  /** `file: expression` of computed-name reads no DYNAMIC entry covers. */
  unresolved: string[];
}

export function scanSources(files: SourceFile[]): Scan {
  const reads = new Map<string, Set<string>>();
  const add = (name: string, file: string) => {
    if (!reads.has(name)) reads.set(name, new Set());
    reads.get(name)!.add(file);
  };
  const unresolved: string[] = [];
  const code = files.map((f) => ({ file: f.file, text: stripComments(f.text) }));
  for (const { file, text } of code) {
    for (const m of text.matchAll(/\b(?:process\.env|env)\.([A-Z][A-Z0-9_]*)\b/g)) add(m[1]!, file);
    for (const m of text.matchAll(/\b(?:process\.env|env)\[\s*(['"`])([A-Z][A-Z0-9_]*)\1\s*\]/g))
      add(m[2]!, file);
    if (/from\s+['"]zod['"]/.test(text)) {
      // An upper-case key whose value is not a type annotation: a field of an env schema.
      for (const m of text.matchAll(
        /^[ \t]*([A-Z][A-Z0-9_]*)\s*:\s*(?!string\b|number\b|boolean\b|undefined\b)\S/gm,
      ))
        add(m[1]!, file);
    }
    for (const m of text.matchAll(/\b(?:process\.env|env)\[([^\]]+)\]/g)) {
      if (/^\s*(['"`])[A-Z][A-Z0-9_]*\1\s*$/.test(m[1]!)) continue; // a literal name: above
      const known = DYNAMIC.find((d) => d.file === file && d.read.test(m[0]));
      if (!known) unresolved.push(`${file}: ${m[0]}`);
    }
  }
  for (const d of DYNAMIC) {
    if (!code.some((f) => f.file === d.file && d.read.test(f.text))) continue;
    for (const { file, text } of code) for (const m of text.matchAll(d.names)) add(m[1]!, file);
  }
  return { reads, unresolved };
}

/** Names in backticks in the first cell of the rows of tables headed `| variable |`. */
export function documentedVariables(markdown: string): Set<string> {
  const names = new Set<string>();
  let inTable = false;
  for (const line of markdown.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('|')) {
      inTable = false;
      continue;
    }
    const first = trimmed.split('|')[1]?.trim() ?? '';
    if (/^variables?$/i.test(first)) {
      inTable = true;
      continue;
    }
    if (!inTable || /^:?-+:?$/.test(first)) continue;
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}

function sourceFiles(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.ts')) {
        out.push({ file: path.relative(ROOT, p).split(path.sep).join('/'), text: '' });
      }
    }
  };
  for (const d of SOURCE_DIRS) if (fs.existsSync(path.join(ROOT, d))) walk(path.join(ROOT, d));
  return out.map((f) => ({ ...f, text: fs.readFileSync(path.join(ROOT, f.file), 'utf8') }));
}

describe('docs/configuration.md', () => {
  describe('the scanner', () => {
    it('finds each way the code reads a variable, and skips comments', () => {
      const { reads, unresolved } = scanSources([
        {
          file: 'a.ts',
          text: [
            "import { z } from 'zod';",
            'const S = z.object({',
            "  A_ZOD: z.string().default('x'),",
            '  B_ZOD: ms(5),',
            '});',
            'interface T {',
            '  NOT_ENV: string;',
            '}',
            'const c = process.env.C_DOT ?? env.D_DOT;',
            "const e = process.env['E_BRACKET'];",
            '// process.env.IN_A_COMMENT',
            '/** env.IN_A_BLOCK_COMMENT */',
            "const url = 'http://x//env.NOT_A_COMMENT_EITHER';",
          ].join('\n'),
        },
        { file: 'b.ts', text: 'const KEY: z.ZodString = x; // no zod import here\nNOT_ZOD: 1' },
      ]);
      assert.deepEqual([...reads.keys()].sort(), [
        'A_ZOD',
        'B_ZOD',
        'C_DOT',
        'D_DOT',
        'E_BRACKET',
        'NOT_A_COMMENT_EITHER',
      ]);
      assert.deepEqual(unresolved, []);
    });

    it('reports a read by a computed name that nothing resolves', () => {
      const { unresolved } = scanSources([
        { file: 'x.ts', text: 'const v = process.env[`${prefix}_KEY`];' },
      ]);
      assert.deepEqual(unresolved, ['x.ts: process.env[`${prefix}_KEY`]']);
    });

    it('resolves the known computed-name reads to the names their helpers are given', () => {
      const { reads } = scanSources([
        { file: 'infra/paths.ts', text: 'const raw = process.env[name];' },
        { file: 'infra/kafka.ts', text: "port: envPort('SOME_PORT', 1)," },
      ]);
      assert.deepEqual([...reads.keys()], ['SOME_PORT']);
    });

    it('reads the documented names from `| variable |` tables only', () => {
      const doc = [
        '| variable | default |',
        '| --- | --- |',
        '| `ONE`, `TWO` | `THREE` in the default column does not count |',
        '',
        '| file | what |',
        '| --- | --- |',
        '| `NOT_A_VARIABLE` | another table |',
        'Prose naming `NOR_THIS` does not count either.',
      ].join('\n');
      assert.deepEqual([...documentedVariables(doc)].sort(), ['ONE', 'TWO']);
    });
  });

  const scan = scanSources(sourceFiles());
  const doc = fs.readFileSync(DOC, 'utf8');
  const documented = documentedVariables(doc);

  it('finds the variables the code reads (the scan is not empty)', () => {
    for (const name of ['TWILIO_AUTH_TOKEN', 'LLM_CHAIN', 'TEMPORAL_PORT', 'SNOWFLAKE_ACCOUNT'])
      assert.ok(scan.reads.has(name), `${name} not found by the scan`);
  });

  it('knows every read by a computed name', () => {
    assert.deepEqual(
      scan.unresolved,
      [],
      'add a DYNAMIC entry in this test and document the pattern in docs/configuration.md',
    );
  });

  it('documents every variable the code reads', () => {
    const missing = [...scan.reads.keys()]
      .filter((name) => !documented.has(name))
      .sort()
      .map((name) => `${name} (read in ${[...scan.reads.get(name)!].sort().join(', ')})`);
    assert.deepEqual(
      missing,
      [],
      `not documented in docs/configuration.md:\n${missing.join('\n')}`,
    );
  });

  it('documents no variable the code does not read', () => {
    const stale = [...documented].filter((name) => !scan.reads.has(name)).sort();
    assert.deepEqual(stale, [], `documented but never read: ${stale.join(', ')}`);
  });

  it('names each place that reads a variable by a computed name', () => {
    for (const d of DYNAMIC) assert.ok(doc.includes(d.file), `docs/configuration.md: ${d.file}`);
  });
});
