# One Whisper model serving WhisperSpeechToText (index.ts) over stdin/stdout, one JSON object
# per line. In: {"id", "pcm": base64 16 kHz s16le, "prompt"} or {"cancel": id}. Out: first
# {"ready": true} or {"failed": why}, then {"id", "text", "confidence"} or {"id", "error"}.
# Utterances are transcribed one at a time in arrival order; one cancelled before its turn
# is skipped (the edge stopped waiting for it).
import base64
import json
import math
import queue
import sys
import threading

import numpy as np

# Fast speech is ≈ 4 tokens a second; twice that leaves room for numerals and punctuation.
TOKENS_PER_SECOND = 8
out_lock = threading.Lock()


def emit(message):
    with out_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def main():
    model_dir, threads = sys.argv[1], int(sys.argv[2])
    try:
        from faster_whisper import WhisperModel

        model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    except Exception as e:  # noqa: BLE001 - any load failure is reported the same way
        emit({"failed": f"{type(e).__name__}: {e}"})
        return 1
    emit({"ready": True})

    pending = queue.Queue()
    cancelled = set()

    def read():
        for line in sys.stdin:
            m = json.loads(line)
            if "cancel" in m:
                cancelled.add(m["cancel"])
            else:
                pending.put(m)
        pending.put(None)  # the edge closed the pipe: nothing is left to serve

    threading.Thread(target=read, daemon=True).start()
    while True:
        m = pending.get()
        if m is None:
            return 0
        if m["id"] in cancelled:
            cancelled.discard(m["id"])
            continue
        try:
            audio = np.frombuffer(base64.b64decode(m["pcm"]), dtype="<i2").astype(np.float32) / 32768
            # Whisper's own 30 s window (the evaluation's most accurate mode); the dialogue's
            # phrases as the prompt bias it towards the words a caller is likely to use. One
            # greedy pass with a length cap: no retries at higher temperatures, no runaway
            # digit strings (an 8 s card number took 4.4 s without them, 0.7 s with).
            segments, _ = model.transcribe(
                audio,
                language="en",
                beam_size=1,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                initial_prompt=m.get("prompt") or None,
                temperature=0.0,
                max_new_tokens=int(len(audio) / 16000 * TOKENS_PER_SECOND) + 10,
            )
            segments = list(segments)
            text = " ".join(s.text.strip() for s in segments).strip()
            mean = sum(s.avg_logprob for s in segments) / len(segments) if segments else -math.inf
            emit({"id": m["id"], "text": text, "confidence": math.exp(mean) if text else 0})
        except Exception as e:  # noqa: BLE001 - the utterance fails, the worker serves on
            emit({"id": m["id"], "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    sys.exit(main())
