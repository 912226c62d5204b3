// The native binding: Debian's libpocketsphinx3 (pocketsphinx 5prealpha C API, sphinxbase
// config) loaded in-process with koffi, once, on first use. Decoding calls run on koffi's
// worker thread so the event loop never waits on the decoder.
import koffi, { type LibraryHandle } from 'koffi';

export interface Native {
  psArgs: () => unknown;
  parseConfig: (argv: string[]) => unknown;
  freeConfig: (cfg: unknown) => void;
  init: (cfg: unknown) => unknown;
  free: (ps: unknown) => number;
  startUtt: (ps: unknown) => number;
  processRaw: (ps: unknown, pcm: Int16Array) => Promise<number>;
  endUtt: (ps: unknown) => Promise<number>;
  getHyp: (ps: unknown) => { text: string; score: number };
  getProb: (ps: unknown) => number;
  nFrames: (ps: unknown) => number;
  setSearch: (ps: unknown, name: string) => number;
  getSearch: (ps: unknown) => string | null;
  unsetSearch: (ps: unknown, name: string) => number;
  setJsgf: (ps: unknown, name: string, jsgf: string) => number;
  setKws: (ps: unknown, name: string, file: string) => number;
  setLmFile: (ps: unknown, name: string, file: string) => number;
  hasWord: (ps: unknown, word: string) => boolean;
  logToLn: (ps: unknown, v: number) => number;
}

let native: Native | undefined;

type Fn = ReturnType<LibraryHandle['func']>;

function callAsync(fn: Fn, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) =>
    fn.async(...args, (err: Error | null, res: number) => (err ? reject(err) : resolve(res))),
  );
}

export function loadNative(): Native {
  if (native) return native;
  const sb = koffi.load('libsphinxbase.so.3');
  const ps = koffi.load('libpocketsphinx.so.3');
  const libc = koffi.load('libc.so.6');
  koffi.opaque('cmd_ln_t');
  koffi.opaque('ps_decoder_t');
  const f = {
    psArgs: ps.func('void *ps_args(void)'),
    parse: sb.func(
      'cmd_ln_t *cmd_ln_parse_r(cmd_ln_t *inout, void *defn, int argc, const char **argv, int strict)',
    ),
    cfgFree: sb.func('int cmd_ln_free_r(cmd_ln_t *cfg)'),
    logfp: sb.func('void err_set_logfp(void *fp)'),
    init: ps.func('ps_decoder_t *ps_init(cmd_ln_t *config)'),
    free: ps.func('int ps_free(ps_decoder_t *ps)'),
    start: ps.func('int ps_start_utt(ps_decoder_t *ps)'),
    process: ps.func(
      'int ps_process_raw(ps_decoder_t *ps, const int16_t *data, size_t n, int no_search, int full_utt)',
    ),
    end: ps.func('int ps_end_utt(ps_decoder_t *ps)'),
    hyp: ps.func('const char *ps_get_hyp(ps_decoder_t *ps, _Out_ int32_t *score)'),
    prob: ps.func('int32_t ps_get_prob(ps_decoder_t *ps)'),
    frames: ps.func('int ps_get_n_frames(ps_decoder_t *ps)'),
    setSearch: ps.func('int ps_set_search(ps_decoder_t *ps, const char *name)'),
    getSearch: ps.func('const char *ps_get_search(ps_decoder_t *ps)'),
    unsetSearch: ps.func('int ps_unset_search(ps_decoder_t *ps, const char *name)'),
    jsgf: ps.func('int ps_set_jsgf_string(ps_decoder_t *ps, const char *name, const char *s)'),
    kws: ps.func('int ps_set_kws(ps_decoder_t *ps, const char *name, const char *keyfile)'),
    lm: ps.func('int ps_set_lm_file(ps_decoder_t *ps, const char *name, const char *path)'),
    lookup: ps.func('void *ps_lookup_word(ps_decoder_t *ps, const char *word)'),
    cfree: libc.func('void free(void *p)'),
    logmath: ps.func('void *ps_get_logmath(ps_decoder_t *ps)'),
    logToLn: sb.func('double logmath_log_to_ln(void *lmath, int logb_p)'),
  };
  // sphinxbase logs every model load to stderr; the decoders' config sends it nowhere.
  f.logfp(null);
  native = {
    psArgs: () => f.psArgs(),
    parseConfig: (argv) => f.parse(null, f.psArgs(), argv.length, argv, 1),
    freeConfig: (cfg) => f.cfgFree(cfg),
    init: (cfg) => f.init(cfg),
    free: (p) => f.free(p),
    startUtt: (p) => f.start(p),
    processRaw: (p, pcm) => callAsync(f.process, p, pcm, pcm.length, 0, 0),
    endUtt: (p) => callAsync(f.end, p),
    getHyp: (p) => {
      const score = [0];
      const text = f.hyp(p, score) as string | null;
      return { text: text ?? '', score: score[0]! };
    },
    getProb: (p) => f.prob(p),
    nFrames: (p) => f.frames(p),
    setSearch: (p, name) => f.setSearch(p, name),
    getSearch: (p) => f.getSearch(p),
    unsetSearch: (p, name) => f.unsetSearch(p, name),
    setJsgf: (p, name, s) => f.jsgf(p, name, s),
    setKws: (p, name, file) => f.kws(p, name, file),
    setLmFile: (p, name, file) => f.lm(p, name, file),
    hasWord: (p, word) => {
      const pron = f.lookup(p, word);
      if (!pron) return false;
      f.cfree(pron);
      return true;
    },
    logToLn: (p, v) => f.logToLn(f.logmath(p), v),
  };
  return native;
}
