"""The voice table: voice ids -> engine + language (+ engine speaker), and language routing.

A requested voice is a preference. The language of each text run decides who can speak it:
``route(voice, language)`` returns the requested voice when it speaks that language (or a language of
the same script, e.g. Cantonese for Han text, French for Latin text), else the table's voice for the
language, else a voice made on the fly on the fallback engine (espeak-ng) with the language code as
its speaker, when that engine speaks the language. A run of another script (kana, hangul, Thai …,
``text/scripts.py``) that nothing here speaks is a 400 naming ``input`` and the script, never
silence or a voice reading code-point names; Han and Latin runs fall back to the requested voice
(zh-baker spells Latin letters).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ttsgate.engines.base import EngineSpec
from ttsgate.exceptions import InvalidRequestError, VoiceNotFoundError
from ttsgate.text.scripts import language_script, script_name

# Languages written in Han characters: a voice for any of them may speak any Han run.
HAN_LANGUAGES = frozenset({"zh", "yue", "cmn", "wuu", "hak", "nan"})
_LANG_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")  # BCP-47-like, any case (x-rp too)


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    engine: str
    language: str
    name: str
    speaker: str | None = None

    @property
    def script(self) -> str:
        """The script this voice reads (``han``, ``latin``, or a ``text/scripts.py`` key)."""
        return "han" if self.language in HAN_LANGUAGES else language_script(self.language)


class VoiceTable:
    def __init__(
        self,
        engines: Mapping[str, EngineSpec],
        voices: Mapping[str, Voice],
        languages: Mapping[str, str],
        aliases: Mapping[str, str],
        fallback_engine: str | None,
    ) -> None:
        self.engines = dict(engines)
        self.voices = dict(voices)
        self.languages = dict(languages)
        self.aliases = dict(aliases)
        self.fallback_engine = fallback_engine
        self._check()

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> VoiceTable:
        engines = {}
        for name, raw in dict(data.get("engines", {})).items():
            opts = {k: v for k, v in raw.items() if k != "kind" and k not in _LIMITS}
            if "kind" not in raw:
                raise InvalidRequestError(f"engine {name!r} has no kind", param="engines")
            limits = {k: _limit(name, k, raw[k]) for k in _LIMITS if raw.get(k) is not None}
            engines[name] = EngineSpec(name=name, kind=str(raw["kind"]), options=opts, **limits)
        voices = {
            vid: Voice(
                id=vid,
                engine=str(raw["engine"]),
                language=str(raw["language"]),
                name=str(raw.get("name", vid)),
                speaker=raw.get("speaker"),
            )
            for vid, raw in dict(data.get("voices", {})).items()
        }
        fallback = dict(data.get("fallback", {})).get("engine")
        return cls(engines, voices, dict(data.get("languages", {})), dict(data.get("aliases", {})), fallback)

    @classmethod
    def load(cls, path: Path | None = None) -> VoiceTable:
        if path is None:
            text = resources.files("ttsgate").joinpath("data/voices.toml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return cls.from_mapping(tomllib.loads(text))

    def only_engines(self, names: set[str]) -> VoiceTable:
        """The table restricted to some engines (voices of other engines disappear)."""
        voices = {k: v for k, v in self.voices.items() if v.engine in names}
        return VoiceTable(
            {k: v for k, v in self.engines.items() if k in names},
            voices,
            {k: v for k, v in self.languages.items() if v in voices},
            {k: v for k, v in self.aliases.items() if v in voices},
            self.fallback_engine if self.fallback_engine in names else None,
        )

    def _check(self) -> None:
        for v in self.voices.values():
            if v.engine not in self.engines:
                raise InvalidRequestError(f"voice {v.id!r} names unknown engine {v.engine!r}", param="voices")
        for lang, vid in self.languages.items():
            if vid not in self.voices:
                raise InvalidRequestError(f"languages.{lang} names unknown voice {vid!r}", param="languages")
        for alias, vid in self.aliases.items():
            if vid not in self.voices:
                raise InvalidRequestError(f"alias {alias!r} names unknown voice {vid!r}", param="aliases")
        if self.fallback_engine is not None and self.fallback_engine not in self.engines:
            raise InvalidRequestError(
                f"fallback engine {self.fallback_engine!r} is unknown", param="fallback"
            )

    # -- lookups ------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return sorted(self.voices) + sorted(self.aliases)

    def resolve(self, voice_id: str) -> Voice:
        """The voice an id or alias names; ``VoiceNotFoundError`` lists the valid ids.

        ``<fallback engine>:<language>`` (e.g. ``espeak:fr``) names a voice made on the fly on the
        fallback engine, so any language espeak-ng knows is reachable without a table entry.
        """
        vid = self.aliases.get(voice_id, voice_id)
        voice = self.voices.get(vid)
        if voice is not None:
            return voice
        engine, sep, lang = voice_id.partition(":")
        if sep and engine == self.fallback_engine and _LANG_CODE.fullmatch(lang):
            return Voice(voice_id, engine, lang.lower(), lang, speaker=lang.lower())
        raise VoiceNotFoundError.for_voice(voice_id, self.ids())

    def routed_languages(self) -> list[str]:
        """The languages the table itself names: routing entries and the voices' own languages."""
        return sorted(set(self.languages) | {v.language for v in self.voices.values()})

    def is_made_on_the_fly(self, voice: Voice) -> bool:
        """Whether ``voice`` is a fallback-engine voice made by ``resolve`` (``espeak:fr``), not an entry."""
        return self.voices.get(voice.id) != voice

    def route_exact(self, preferred: Voice, language: str) -> Voice:
        """The voice for an explicitly requested language (a dialect such as ``yue``): the
        requested voice if it is that language, else the table's voice for it, else fallback."""
        if preferred.language == language:
            return preferred
        if language in self.languages:
            return self.voices[self.languages[language]]
        if self.fallback_engine is not None:
            return Voice(f"{language}_fallback", self.fallback_engine, language, language, speaker=language)
        return preferred

    def route(self, preferred: Voice, language: str) -> Voice:
        """The voice that speaks a run of ``language`` for a request that asked for ``preferred``.

        Runs are labelled by script (``text/runs.py``): zh = Han, en = Latin, ja = kana, ko = hangul,
        th, ru, ar … A voice of the run's script speaks it (a Cantonese voice Han text, a French
        voice Latin text, a Ukrainian voice a Russian run); else the table's voice for the language,
        else the fallback engine when it speaks the language. Nothing left: a Han or Latin run is
        tried by the requested voice; any other script is ``InvalidRequestError`` (400, ``input``)."""
        if preferred.language == language:
            return preferred
        script = language_script(language)
        if script == preferred.script:
            return preferred
        if language in self.languages:
            return self.voices[self.languages[language]]
        if self.fallback_engine is not None and self._fallback_speaks(language):
            return Voice(f"{language}_fallback", self.fallback_engine, language, language, speaker=language)
        if script in ("han", "latin"):
            return preferred
        raise InvalidRequestError(
            f"input has text in the {script_name(language)} script ({language}) that no voice here "
            f"speaks (voice {preferred.id!r}, no voice for {language!r}"
            + (
                f", and the fallback engine {self.fallback_engine!r} does not speak it)"
                if self.fallback_engine
                else ")"
            ),
            param="input",
            code="unsupported_script",
        )

    def _fallback_speaks(self, language: str) -> bool:
        """Whether the fallback engine speaks ``language``: espeak-ng's ``--voices`` list (read once
        per binary); any other kind (the sine test engine) speaks everything."""
        spec = self.engines.get(self.fallback_engine or "")
        if spec is None or spec.kind != "espeak":
            return True
        known = espeak_languages(str(spec.options.get("binary", "espeak-ng")))
        return known is None or language.lower() in known


@functools.cache
def espeak_languages(binary: str = "espeak-ng") -> frozenset[str] | None:
    """The language names espeak-ng's ``-v`` takes (``ja``, ``ko``, ``th`` …) from ``--voices``;
    None when the binary is missing or fails (then routing assumes it speaks the language, and the
    engine reports what it cannot)."""
    exe = shutil.which(binary)
    if exe is None:
        return None
    try:
        listing = subprocess.run(
            [exe, "--voices"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = {f[1].lower() for f in (line.split() for line in listing.splitlines()[1:]) if len(f) >= 5}
    return frozenset(names | {n.split("-")[0] for n in names}) or None


# Scheduler settings an engine's table entry may override, and their types and lower bounds.
_LIMITS: dict[str, tuple[type, float]] = {
    "max_batch_size": (int, 1),
    "workers": (int, 1),
    "max_queue": (int, 1),
    "max_wait_ms": (float, 0),
    "max_queue_wait_s": (float, 0),
}


def _limit(engine: str, key: str, value: object) -> Any:  # int or float, by the key
    kind, low = _LIMITS[key]
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= low:
        if kind is float:
            return float(value)
        if value == int(value):
            return int(value)
    what = "an integer" if kind is int else "a number"
    raise InvalidRequestError(
        f"engine {engine!r}: {key} must be {what} >= {low:g}, not {value!r}", param="engines"
    )
