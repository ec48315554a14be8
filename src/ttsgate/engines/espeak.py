"""eSpeak NG (the Debian ``espeak-ng`` binary, one subprocess per segment): ~100 languages.

The item's ``speaker`` is an espeak-ng voice (``cmn``, ``yue``, ``en-us``, ``fr``, optionally with a
variant: ``en-us+f3``), defaulting to the item's ``language``. The valid names (languages, "other
languages", voice files) are read once from ``espeak-ng --voices`` at load. Text goes on stdin as
UTF-8 (never through a shell); the WAV on stdout is parsed with ``wave``. Options: ``binary``
(default ``espeak-ng``), ``timeout_s`` (per call, default 60).

Speed (0.25–4.0 of espeak's default 175 wpm). Measured, same two English sentences, ``-s WPM``:
80 wpm 12.27 s, 175 wpm 5.77 s, 350 wpm 2.89 s, 700 wpm 1.45 s (x3.99), 1000 wpm 1.00 s; below 80
wpm the rate is clamped (20, 40, 60 wpm all give 12.27 s, and SSML ``<prosody rate>`` is clamped
too). Between 1.5× and 3× espeak's own rate shortens more than it says (three sentences: 2.0× gave
2.13–2.25× shorter audio, 2.5× 2.68–2.86×; benchmarks/speed.md), within 0.46–1.5× it is within 5 %.
So espeak speaks at ``175 × speed`` clamped to 80–262 wpm (``MIN_WPM``, ``MAX_WPM``) and the audio
is time-stretched by the remaining factor with libsonic itself (the pitch-synchronous time-stretch
espeak uses for its fast rates; ``libsonic0`` is a hard dependency of Debian's ``libespeak-ng1``),
through ctypes, or FFmpeg's atempo (``audio.tempo``) when libsonic cannot be loaded. No silence
padding (which would sound like stutter).

espeak-ng ends every text with a silence that does not follow its rate (0.89 s at 80 wpm, 0.30 s at
175, 0.13 s at 262: ×2.9 for ×2.2 slower): on a short input ("Hi.", "a", "好") it made speed 0.5
×1.25 of 1/speed and 2.0 ×0.74. It is trimmed (``trim_tail``) and ``TAIL_S / speed`` of silence
put back, so the audio is 1/speed of speed 1's, short inputs included (benchmarks/speed.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
import re
import shutil
import subprocess
import unicodedata
import wave
from collections.abc import Hashable, Iterator, Sequence

import numpy as np

from ttsgate.audio.chunk import AudioChunk, Int16Array
from ttsgate.audio.resample import resample
from ttsgate.audio.tempo import time_stretch
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError
from ttsgate.text import ipa, marks

log = logging.getLogger(__name__)

SAMPLE_RATE = 22_050
DEFAULT_WPM, MIN_WPM, MAX_WPM = 175, 80, 262  # espeak's own rate is accurate to 5 % in between
MIN_SPEED, MAX_SPEED = 0.25, 4.0
EMPTY_SILENCE_S = 0.05
TAIL_S = 0.30  # espeak-ng's own closing silence at 175 wpm, put back ÷ speed after the trim
_TAIL_LEVEL = 64  # |sample| at or below this is silence (espeak-ng pads with digital zeros)
_TAIL_KEEP_S = 0.01  # kept after the last sound: the decay of the last phoneme
_ENGINE_REVISION = "espeak-3"  # 2: speeds above 1.5 time-stretched; 3: closing silence ÷ speed
_OTHER_LANGUAGE = re.compile(r"\(([^)\s]+)\s+\d+\)")


def trim_tail(pcm: Int16Array, rate: int) -> Int16Array:
    """``pcm`` without its closing silence (``_TAIL_KEEP_S`` after the last sound is kept)."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > _TAIL_LEVEL)
    if not loud.size:
        return pcm[:0]
    return pcm[: min(len(pcm), int(loud[-1]) + 1 + round(_TAIL_KEEP_S * rate))]


def speakable_text(text: str) -> str:
    """Text without control, surrogate or unassigned code points (format characters dropped)."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue
        out.append(" " if cat[0] == "C" or ch.isspace() else ch)
    return "".join(out).strip()


def parse_voice_names(listing: str) -> set[str]:
    """Every name ``-v`` accepts, lower-cased, from an ``espeak-ng --voices[=variant]`` listing."""
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        language, voice_file = fields[1], fields[4]
        if language != "variant":
            names.add(language.lower())
        names.add(voice_file.lower())
        names.add(voice_file.rsplit("/", 1)[-1].lower())
        names.update(m.lower() for m in _OTHER_LANGUAGE.findall(line))
    return names


def _load_sonic() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("sonic")
    try:
        lib = ctypes.CDLL(path or "libsonic.so.0")
    except OSError:
        return None
    lib.sonicCreateStream.restype = ctypes.c_void_p
    lib.sonicCreateStream.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.sonicSetSpeed.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.sonicWriteShortToStream.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.sonicFlushStream.argtypes = [ctypes.c_void_p]
    lib.sonicSamplesAvailable.argtypes = [ctypes.c_void_p]
    lib.sonicReadShortFromStream.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.sonicDestroyStream.argtypes = [ctypes.c_void_p]
    return lib


def sonic_stretch(lib: ctypes.CDLL, pcm: Int16Array, sample_rate: int, speed: float) -> Int16Array:
    """Time-stretch mono int16 PCM by ``1/speed`` keeping the pitch, with libsonic."""
    stream = lib.sonicCreateStream(sample_rate, 1)
    if not stream:
        raise EngineError("libsonic could not create a stream")
    try:
        src = np.ascontiguousarray(pcm, dtype=np.int16)
        lib.sonicSetSpeed(stream, speed)
        lib.sonicWriteShortToStream(stream, src.ctypes.data, len(src))
        lib.sonicFlushStream(stream)
        out = np.zeros(int(lib.sonicSamplesAvailable(stream)) + 1, dtype=np.int16)
        got = int(lib.sonicReadShortFromStream(stream, out.ctypes.data, len(out)))
        return out[:got]
    finally:
        lib.sonicDestroyStream(stream)


def render_marks(text: str, voice: str) -> str:
    """Text for espeak-ng: a user's ``[[`` is not phoneme input (only the lexicon writes it), and a
    lexicon IPA mark becomes espeak-ng's ``[[mnemonics]]`` for an English voice; any other mark (a
    pinyin reading for a Chinese voice, IPA for another language) is read as its word."""
    raw = text.replace("[[", "[ [").replace("]]", "] ]")
    english = voice.lower().startswith("en")

    def form(mark: marks.Mark) -> str | None:
        return f" [[{ipa.to_espeak(mark.reading)}]] " if mark.kind == "ipa" and english else None

    return marks.render(raw, form)


class EspeakEngine:
    def __init__(self, spec: EngineSpec) -> None:
        opts = spec.options
        self._name = spec.name
        self._binary = str(opts.get("binary", "espeak-ng"))
        self._timeout_s = float(opts.get("timeout_s", 60.0))
        self._exe: str | None = None
        self._voices: frozenset[str] = frozenset()
        self._variants: frozenset[str] = frozenset()
        self._sonic: ctypes.CDLL | None = None
        self._version = ""

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def max_batch_size(self) -> int:
        return 1

    @property
    def voices(self) -> frozenset[str]:
        """The voice names (lower-cased) this espeak-ng accepts."""
        return self._voices

    def load(self) -> None:
        exe = shutil.which(self._binary)
        if exe is None:
            raise EngineError(
                f"engine {self._name!r}: {self._binary!r} not found; install the Debian package "
                "espeak-ng (apt-get install espeak-ng)"
            )
        self._exe = exe
        banner = self._run_text("--version").split("Data at:")[0].strip()
        self._version = f"{_ENGINE_REVISION}:{banner}"
        self._voices = frozenset(parse_voice_names(self._run_text("--voices")))
        self._variants = frozenset(parse_voice_names(self._run_text("--voices=variant")))
        if not self._voices:
            raise EngineError(f"engine {self._name!r}: 'espeak-ng --voices' listed no voice")
        self._sonic = _load_sonic()
        if self._sonic is None:
            log.info("libsonic not found: espeak speeds beyond %d-%d wpm use atempo", MIN_WPM, MAX_WPM)

    def _run_text(self, *args: str) -> str:
        assert self._exe is not None
        try:
            proc = subprocess.run(
                [self._exe, *args],
                capture_output=True,
                check=True,
                timeout=self._timeout_s,
                start_new_session=True,  # see _speak
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise EngineError(f"engine {self._name!r}: espeak-ng {' '.join(args)} failed: {exc}") from exc
        return proc.stdout.decode("utf-8", "replace")

    def speaks(self, language: str) -> bool:
        """Whether espeak-ng has a voice named ``language`` (``fr``, ``en-us``, ``yue``; read at load)."""
        return language.strip().lower() in self._voices

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return (item.speaker or item.language, round(item.speed, 3))

    def max_speech_s(self, speed: float) -> float | None:
        return None  # one subprocess per item, no model limit

    def _voice(self, item: SynthesisInput) -> str:
        voice = (item.speaker or item.language).strip()
        base, _, variant = voice.lower().partition("+")
        if base not in self._voices or (variant and variant not in self._variants):
            raise InvalidRequestError(
                f"espeak-ng has no voice {voice!r} (see 'espeak-ng --voices')", param="voice"
            )
        return voice

    def pieces(self, item: SynthesisInput) -> Iterator[AudioChunk] | None:
        """None: espeak-ng's subprocess writes its WAV whole."""
        return None

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        if self._exe is None:
            raise EngineError(f"engine {self._name!r}: synthesize() before load()")
        return [self._one(item) for item in batch]

    def _one(self, item: SynthesisInput) -> AudioChunk:
        voice = self._voice(item)
        if not MIN_SPEED <= item.speed <= MAX_SPEED:
            raise InvalidRequestError(
                f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {item.speed}", param="speed"
            )
        text = speakable_text(render_marks(item.text, voice))
        if not text:
            return AudioChunk.silence(EMPTY_SILENCE_S, SAMPLE_RATE)
        wpm = min(MAX_WPM, max(MIN_WPM, round(DEFAULT_WPM * item.speed)))
        pcm, rate = self._speak(text, voice, wpm)
        pcm = trim_tail(pcm, rate)
        stretch = DEFAULT_WPM * item.speed / wpm  # != 1 only outside espeak's accurate rates
        if abs(stretch - 1.0) > 0.01 and self._sonic is not None and pcm.size:
            pcm = sonic_stretch(self._sonic, pcm, rate, stretch)
            stretch = 1.0
        samples = time_stretch(pcm.astype(np.float32) / np.float32(32768.0), rate, stretch)
        samples = resample(samples, rate, SAMPLE_RATE)  # the input itself at 22050 (mbrola voices: 16 kHz)
        if not samples.size:
            return AudioChunk.silence(EMPTY_SILENCE_S, SAMPLE_RATE)
        tail = np.zeros(round(TAIL_S / item.speed * SAMPLE_RATE), dtype=np.float32)
        return AudioChunk(np.concatenate([samples.astype(np.float32), tail]), SAMPLE_RATE)

    def _speak(self, text: str, voice: str, wpm: int) -> tuple[Int16Array, int]:
        assert self._exe is not None
        cmd = [self._exe, "--stdout", "-b", "1", "-v", voice, "-s", str(wpm)]
        try:
            # Its own session: Ctrl-C in a terminal (SIGINT to the foreground process group) starts
            # ttsgate's drain and must not kill the espeak-ng runs the drain waits for.
            proc = subprocess.run(
                cmd,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout_s,
                start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise EngineError(f"engine {self._name!r}: espeak-ng failed: {exc}") from exc
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise EngineError(f"engine {self._name!r}: espeak-ng exited {proc.returncode}: {err}")
        try:
            # espeak-ng streams, so the header's sizes are bogus: read frames until EOF.
            with wave.open(io.BytesIO(proc.stdout), "rb") as wav:
                if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                    raise EngineError(f"engine {self._name!r}: espeak-ng WAV is not 16-bit mono")
                rate = wav.getframerate()
                frames = wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise EngineError(f"engine {self._name!r}: unreadable WAV from espeak-ng: {exc}") from exc
        return np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.int16), rate

    def close(self) -> None:
        self._exe = None
