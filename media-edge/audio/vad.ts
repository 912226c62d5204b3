// WebRTC voice activity detection (libfvad compiled to WASM) at the phone line's native
// 8 kHz, one decision per 20 ms frame. One WASM instance serves every call of the process;
// each Vad owns a detector handle and a frame buffer inside it.
import { frameSamples } from '../../audio/frames';
import { importEsm } from '../../infra/esm-import';

export type VadMode = 0 | 1 | 2 | 3;

export interface VadOptions {
  /** Aggressiveness: 0 = most permissive … 3 = rejects the most non-speech. Default 3. */
  mode?: VadMode;
}

export interface Vad {
  /** `frame`: 160 samples (20 ms at 8 kHz). */
  isSpeech(frame: Int16Array): boolean;
  /** Clears the detector's adaptive state (e.g. between calls), keeping the mode. */
  reset(): void;
  close(): void;
}

/** The Emscripten exports of @echogarden/fvad-wasm (the package ships no typings). */
interface FvadModule {
  HEAP16: Int16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _fvad_new(): number;
  _fvad_free(handle: number): void;
  _fvad_reset(handle: number): void;
  _fvad_set_mode(handle: number, mode: number): number;
  _fvad_set_sample_rate(handle: number, rate: number): number;
  _fvad_process(handle: number, frame: number, length: number): number;
}

type FvadFactory = (moduleArg?: object) => Promise<FvadModule>;

const SAMPLE_RATE = 8000;
const FRAME = frameSamples(SAMPLE_RATE);

let instance: Promise<FvadModule> | undefined;

function loadFvad(): Promise<FvadModule> {
  // An ES module: load it with a real dynamic import, never require().
  instance ??= importEsm<{ default: FvadFactory }>('@echogarden/fvad-wasm')
    .then((m) => m.default())
    .catch((err: unknown) => {
      instance = undefined;
      throw err;
    });
  return instance;
}

class FvadVad implements Vad {
  private handle: number;
  private readonly frame: number;

  constructor(
    private readonly m: FvadModule,
    private readonly mode: VadMode,
  ) {
    this.handle = m._fvad_new();
    if (!this.handle) throw new Error('fvad: out of memory creating a detector');
    this.frame = m._malloc(FRAME * 2);
    if (!this.frame) {
      m._fvad_free(this.handle);
      throw new Error('fvad: out of memory for the frame buffer');
    }
    this.configure();
  }

  private configure(): void {
    if (this.m._fvad_set_sample_rate(this.handle, SAMPLE_RATE) !== 0) {
      throw new Error(`fvad: sample rate ${SAMPLE_RATE} rejected`);
    }
    if (this.m._fvad_set_mode(this.handle, this.mode) !== 0) {
      throw new Error(`fvad: mode ${this.mode} rejected`);
    }
  }

  isSpeech(frame: Int16Array): boolean {
    if (!this.handle) throw new Error('Vad is closed');
    if (frame.length !== FRAME) {
      throw new RangeError(`VAD frames are ${FRAME} samples (20 ms at 8 kHz), got ${frame.length}`);
    }
    // HEAP16 is re-read each time: the WASM memory may have grown and replaced it.
    this.m.HEAP16.set(frame, this.frame >> 1);
    const r = this.m._fvad_process(this.handle, this.frame, FRAME);
    if (r < 0) throw new Error('fvad: frame rejected');
    return r === 1;
  }

  reset(): void {
    if (!this.handle) throw new Error('Vad is closed');
    this.m._fvad_reset(this.handle); // also resets mode and rate to defaults
    this.configure();
  }

  close(): void {
    if (!this.handle) return;
    this.m._fvad_free(this.handle);
    this.m._free(this.frame);
    this.handle = 0;
  }
}

export async function createVad(opts: VadOptions = {}): Promise<Vad> {
  const mode = opts.mode ?? 3;
  if (![0, 1, 2, 3].includes(mode)) throw new RangeError(`VAD mode must be 0–3, got ${mode}`);
  return new FvadVad(await loadFvad(), mode);
}
