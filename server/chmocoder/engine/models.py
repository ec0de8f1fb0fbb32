"""Which GGUF file a model setting means: a catalogue name, "default", or a path."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from chmocoder.engine.catalogue import DEFAULT, Progress, catalogue, ensure_model
from chmocoder.engine.gguf_header import GGUFError, GGUFHeader, read_header
from chmocoder.engine.types import EngineError

log = logging.getLogger(__name__)

__all__ = ["DEFAULT", "check_model", "fingerprint", "resolve_model"]


def resolve_model(
    spec: str, cache_dir: Path, progress: Progress | None = None, *, recheck: bool = False
) -> Path:
    """The GGUF file for a model setting. A catalogue name (or "default") is assembled into
    the cache once, reporting progress (and again if it no longer verifies; `recheck`: hash it
    again even if it looks untouched); anything else is a path."""
    entry = catalogue().get(spec)
    if entry is not None:
        return ensure_model(entry, cache_dir, progress, recheck=recheck)
    path = Path(spec).expanduser()
    if not path.exists():
        if "/" not in spec and not spec.endswith(".gguf"):
            names = ", ".join(catalogue().names)
            raise EngineError(
                "model-missing",
                f"no model named {spec!r}: use one of default, {names}, or a GGUF file's path",
            )
        raise EngineError("model-missing", f"model file {path} does not exist")
    return path


def check_model(path: Path) -> GGUFHeader:
    try:
        return read_header(path)
    except GGUFError as exc:
        raise EngineError("model-invalid", str(exc)) from None


def fingerprint(path: Path) -> str:
    """A content fingerprint that is quick for multi-GB files: size + first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        digest.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), 2)
            digest.update(f.read(1 << 20))
    return digest.hexdigest()[:16]
