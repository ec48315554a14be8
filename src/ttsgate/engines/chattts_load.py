"""Loading ChatTTS from a local asset directory, and the facts about it that go into the engine version.

The directory is in ChatTTS's asset layout (``asset/gpt``, ``asset/tokenizer``,
``asset/{Embed,DVAE,Decoder,Vocos}.safetensors``; the directory itself or its parent may be given) and
is loaded through ``Chat._load`` with explicit paths: ``Chat.load(source="custom")`` would check the
official weights' sha256, and nothing here ever downloads. An optional ``ttsgate-chattts.json`` next to
``asset/`` overrides ChatTTS's config sizes (used by the tiny random test model; real weights need none).

torch and ChatTTS are imported by name, inside functions only: they are an optional extra, and untyped
(ChatTTS) or absent where mypy runs; everything from them is ``Any`` here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ttsgate.exceptions import EngineError

CONFIG_FILE = "ttsgate-chattts.json"


@dataclass(frozen=True, slots=True)
class Modules:
    """torch and the parts of ChatTTS the engine needs, once imported."""

    torch: Any
    chat_cls: Any
    config_cls: Any
    parametrize: Any


def import_modules(name: str) -> Modules:
    """Import torch and ChatTTS, or fail with the install hint for engine ``name``."""
    try:
        return Modules(
            torch=importlib.import_module("torch"),
            chat_cls=importlib.import_module("ChatTTS").Chat,
            config_cls=importlib.import_module("ChatTTS.config").Config,
            parametrize=importlib.import_module("torch.nn.utils.parametrize"),
        )
    except ImportError as exc:
        raise EngineError(f"engine {name!r}: pip install 'ttsgate[chattts]' ({exc})") from exc


def pick_device(torch: Any, opt: str, name: str) -> Any:
    """The torch device for the ``device`` option (auto | cpu | cuda[:N])."""
    if opt == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(opt)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise EngineError(f"engine {name!r}: device {opt!r} asked for but CUDA is not available")
    return dev


def load_chat(name: str, root: Path, mods: Modules, device: Any, *, compile: bool, dtype: str) -> Any:
    """A loaded ``ChatTTS.Chat`` from the asset folder ``root`` on ``device``."""
    cfg_file = config_file(root)
    overrides: dict[str, Any] = json.loads(cfg_file.read_text("utf-8")) if cfg_file else {}
    chat = mods.chat_cls(logging.getLogger("ttsgate.chattts"))
    chat.config = build_config(mods.config_cls, overrides)
    paths = {k: str(root / _in_asset(v)) for k, v in dataclasses.asdict(chat.config.path).items()}
    missing = [p for p in paths.values() if not Path(p).exists()]
    if missing:
        raise EngineError(f"engine {name!r}: missing ChatTTS assets: {', '.join(missing)}")
    try:
        ok = chat._load(device=device, compile=compile, **paths)
    except Exception as exc:  # torch/safetensors/transformers errors: wrong or corrupt assets
        raise EngineError(f"engine {name!r}: cannot load ChatTTS from {root}: {exc}") from exc
    if not ok:
        raise EngineError(f"engine {name!r}: ChatTTS did not load every module")
    # The output heads are weight-normed: ChatTTS recomputes w = g * v / |v| at every step.
    # Freeze them once (same values, 4-5 fewer kernels per generated token).
    for head in (chat.embed.head_text, *chat.embed.head_code):
        if mods.parametrize.is_parametrized(head, "weight"):
            mods.parametrize.remove_parametrizations(head, "weight", leave_parametrized=True)
    if device.type == "cuda" and dtype in ("auto", "float16"):
        chat.gpt.gpt.half()  # the Llama body; embeddings, heads and decoders stay float32
    return chat


def build_config(config_cls: Any, overrides: Mapping[str, Any]) -> Any:
    """A *fresh* ChatTTS ``Config`` with ``overrides`` applied (nested dicts for nested dataclasses).

    ChatTTS's config dataclasses use shared instances as field defaults, so mutating
    ``chat.config.gpt`` in place would change every other ``Chat``; everything here is rebuilt."""

    def rebuild(default: Any, over: Mapping[str, Any]) -> Any:
        unknown = set(over) - {f.name for f in dataclasses.fields(default)}
        if unknown:
            raise EngineError(f"chattts config: unknown keys {sorted(unknown)} in {type(default).__name__}")
        kwargs = {}
        for f in dataclasses.fields(default):
            value = getattr(default, f.name)
            if dataclasses.is_dataclass(value):
                kwargs[f.name] = rebuild(value, over.get(f.name, {}))
            elif f.name in over:
                new = over[f.name]
                kwargs[f.name] = tuple(new) if isinstance(value, tuple) else new
            else:
                kwargs[f.name] = value
        return type(default)(**kwargs)

    return rebuild(config_cls(), overrides)


def asset_root(path: Path) -> Path:
    """The ``asset`` folder: ``path`` itself when it holds the files, else ``path/asset``."""
    return path if (path / "gpt").is_dir() or path.name == "asset" else path / "asset"


def config_file(root: Path) -> Path | None:
    """``ttsgate-chattts.json`` in the asset folder or its parent, if there is one."""
    for where in (root, root.parent):
        if (where / CONFIG_FILE).is_file():
            return where / CONFIG_FILE
    return None


def asset_digest(root: Path, user_speakers: Mapping[str, str], builtin: Mapping[str, Any]) -> str:
    """A short hash of the assets (names, sizes, mtimes), the config file and the voices."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")) if root.is_dir() else []:
        if p.is_file():
            st = p.stat()  # size + mtime: new weights of the same shape must change the version
            h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    cfg = config_file(root)
    if cfg is not None:
        h.update(cfg.read_bytes())
    h.update(json.dumps(user_speakers, sort_keys=True).encode())
    h.update(json.dumps(builtin, sort_keys=True).encode())
    return h.hexdigest()[:10]


def chattts_version() -> str:
    try:
        return importlib.metadata.version("chattts")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _in_asset(rel: str) -> Path:
    """ChatTTS's default paths are ``asset/...``: the part below ``asset``."""
    parts = Path(rel).parts
    return Path(*parts[1:]) if parts and parts[0] == "asset" else Path(rel)
