// The native binding: Moonshine's C library (libmoonshine.so from PyPI moonshine-voice, which
// finds its bundled ONNX Runtime through its RPATH) loaded in-process with koffi, once, on
// first use. Transcription runs on koffi's worker thread so the event loop never waits on it.
import path from 'node:path';
import koffi from 'koffi';

/** The header version this binding was written against (moonshine-c-api.h, 0.1.0). */
const HEADER_VERSION = 30000;
/** model_arch for the non-streaming tiny model. */
const ARCH_TINY = 0;

export interface Native {
  /** A transcriber handle (≥ 0), or a negative error code. */
  load(modelDir: string, options: Record<string, string>): number;
  free(handle: number): void;
  /** The transcript's lines, joined; rejects with the library's message on an error code. */
  transcribe(handle: number, audio: Float32Array, sampleRate: number): Promise<string>;
  errorText(code: number): string;
}

const natives = new Map<string, Native>();

interface LineC {
  text: string | null;
}

/** The C structs read or passed here. */
function declareTypes() {
  const option = koffi.struct('moonshine_option_t', {
    name: 'const char *',
    value: 'const char *',
  });
  // Only `text` is read; the other fields keep the ABI's layout (88 bytes).
  const line = koffi.struct('transcript_line_t', {
    text: 'const char *',
    audio_data: 'void *',
    audio_data_count: 'size_t',
    start_time: 'float',
    duration: 'float',
    id: 'uint64_t',
    is_complete: 'int8_t',
    is_updated: 'int8_t',
    is_new: 'int8_t',
    has_text_changed: 'int8_t',
    have_speakers_changed: 'int8_t',
    speaker_spans: 'void *',
    speaker_span_count: 'uint64_t',
    last_transcription_latency_ms: 'uint32_t',
    words: 'void *',
    word_count: 'uint64_t',
  });
  if (koffi.sizeof(line) !== 88) throw new Error('libmoonshine ABI mismatch (transcript_line_t)');
  const transcript = koffi.struct('transcript_t', { lines: 'void *', line_count: 'uint64_t' });
  return { option, line, transcript };
}

let declared: ReturnType<typeof declareTypes> | undefined;
/** koffi names types globally: they are declared once, whatever library loads them. */
const types = () => (declared ??= declareTypes());

/** Loads `<libDir>/libmoonshine.so` once per path. */
export function loadNative(libDir: string): Native {
  const known = natives.get(libDir);
  if (known) return known;
  const lib = koffi.load(path.join(libDir, 'libmoonshine.so'));
  const { option, line, transcript } = types();
  const f = {
    load: lib.func(
      'int32_t moonshine_load_transcriber_from_files(const char *path, uint32_t arch, const moonshine_option_t *options, uint64_t n, int32_t version)',
    ),
    free: lib.func('void moonshine_free_transcriber(int32_t handle)'),
    transcribe: lib.func(
      'int32_t moonshine_transcribe_without_streaming(int32_t handle, const float *audio, uint64_t n, int32_t rate, uint32_t flags, _Out_ transcript_t **out)',
    ),
    error: lib.func('const char *moonshine_error_to_string(int32_t code)'),
  };
  const errorText = (code: number) => (f.error(code) as string | null) ?? `error ${code}`;
  const native: Native = {
    load: (dir, options) => {
      const opts = Object.entries(options).map(([name, value]) => ({ name, value }));
      return f.load(
        dir,
        ARCH_TINY,
        koffi.as(opts, koffi.pointer(option)),
        opts.length,
        HEADER_VERSION,
      ) as number;
    },
    free: (handle) => f.free(handle),
    transcribe: (handle, audio, sampleRate) =>
      new Promise((resolve, reject) => {
        const out: unknown[] = [null];
        f.transcribe.async(
          handle,
          audio,
          audio.length,
          sampleRate,
          0,
          out,
          (err: Error | null, code: number) => {
            if (err) return reject(err);
            if (code !== 0) return reject(new Error(errorText(code)));
            // The transcript belongs to the transcriber (valid until its next call): read it now.
            const t = out[0]
              ? (koffi.decode(out[0], transcript) as {
                  lines: unknown;
                  line_count: number | bigint;
                })
              : undefined;
            const count = Number(t?.line_count ?? 0);
            const lines = count && t ? (koffi.decode(t.lines, line, count) as LineC[]) : [];
            resolve(lines.map((l) => l.text ?? '').join(' '));
          },
        );
      }),
    errorText,
  };
  natives.set(libDir, native);
  return native;
}
