"""The model catalogue: part packages assembled into the cache, damage, missing packages, and
the hub download path against a local stand-in for the Hugging Face hub."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chmocoder.engine import catalogue as models
from chmocoder.engine.catalogue import (
    Catalogue,
    catalogue,
    ensure_model,
    expand,
    parse_catalogue,
    pull,
)
from chmocoder.engine.models import resolve_model
from chmocoder.engine.types import EngineError

ROOT = Path(__file__).resolve().parents[2]
PART = 2_500_000  # bytes per fake part: more than one read block each


def test_ranges_expand_together_with_their_padding() -> None:
    assert expand("m{1..3}:data/part{01..03}.bin") == [
        "m1:data/part01.bin",
        "m2:data/part02.bin",
        "m3:data/part03.bin",
    ]
    with pytest.raises(ValueError, match="differ"):
        expand("m{1..3}:p{1..2}")


def test_shipped_catalogue_and_the_package_extras_agree() -> None:
    shipped = catalogue()
    assert shipped.default == "qwen2.5-coder-1.5b"
    assert set(shipped.names) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "gemma3-270m"}
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for model in shipped.models.values():
        assert model.pypi is not None
        assert re.fullmatch(r"[0-9a-f]{64}", model.pypi.sha256)
        assert list(model.pypi.packages) == extras[model.pypi.extra], model.name
        assert all("==" in p for p in model.pypi.packages)  # pinned exactly
        assert len(model.pypi.parts) == len(model.pypi.packages)
    assert shipped.get("default") is shipped.models["qwen2.5-coder-1.5b"]
    # the official hub files' hashes are pinned; for both Qwen models they are the PyPI bytes
    for name in ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"):
        model = shipped.models[name]
        assert model.hub is not None and model.pypi is not None
        assert model.hub.sha256 == model.pypi.sha256


def test_a_hub_source_without_a_pinned_hash_is_refused() -> None:
    entry = {"description": "d", "license": "MIT", "file": "x.gguf",
             "hub": {"repo": "someone/x", "file": "x.gguf"}}  # fmt: skip
    with pytest.raises(ValueError, match="official SHA-256 pinned"):
        parse_catalogue({"default": "x", "models": {"x": entry}})


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Catalogue, bytes]:
    """A catalogue entry whose three part packages are installed (on sys.path) in tmp_path."""
    data = b"".join(bytes([i]) * PART for i in range(1, 4))
    return fake_catalogue(tmp_path / "site", monkeypatch, data), data


def fake_catalogue(site: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> Catalogue:
    """A catalogue with one model, `fake`: `data` in three installed part packages, and the
    same bytes pinned for its hub file."""
    third = -(-len(data) // 3)
    for i in range(1, 4):
        folder = site / f"chmo_fake_part{i}" / "data"
        folder.mkdir(parents=True)
        (folder.parent / "__init__.py").write_text("raise RuntimeError('never imported')\n")
        (folder / f"part{i:02d}.bin").write_bytes(data[(i - 1) * third : i * third])
    monkeypatch.syspath_prepend(str(site))
    sha256 = hashlib.sha256(data).hexdigest()
    entry = {
        "default": "fake",
        "models": {
            "fake": {
                "description": "a fake model",
                "license": "MIT",
                "file": "fake.gguf",
                "pypi": {
                    "extra": "model-fake",
                    "size": len(data),
                    "sha256": sha256,
                    "packages": "chmo-fake-part{1..3}==1.0",
                    "parts": "chmo_fake_part{1..3}:data/part{01..03}.bin",
                },
                "hub": {"repo": "someone/fake-GGUF", "file": "fake-q4.gguf", "sha256": sha256},
            }
        },
    }
    return parse_catalogue(entry)


def installed_parts(known: Catalogue) -> tuple[models.CatalogueModel, list[Path]]:
    """The fake entry and the paths of its installed part files."""
    entry = known.models["fake"]
    assert entry.pypi is not None
    return entry, models.part_files(entry.pypi)[0]


def not_installed(fake: tuple[Catalogue, bytes]) -> tuple[models.CatalogueModel, bytes]:
    """The fake entry with its part packages removed, and the GGUF's bytes."""
    entry, files = installed_parts(fake[0])
    for part in files:
        part.unlink()
    return entry, fake[1]


def test_parts_are_assembled_once_with_progress_and_checked(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    known, data = fake_model
    entry = known.models["fake"]
    seen: list[tuple[int, int]] = []
    path = ensure_model(entry, tmp_path / "cache", lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == data
    assert len(seen) >= 3 and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # streamed, in order
    assert not list(path.parent.glob(".*.part"))  # no temporary file left
    stamp = path.stat().st_mtime_ns
    again: list[tuple[int, int]] = []
    assert ensure_model(entry, tmp_path / "cache", lambda d, t: again.append((d, t))) == path
    assert path.stat().st_mtime_ns == stamp and not again  # not assembled twice


def test_a_damaged_model_is_assembled_again(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    known, data = fake_model
    entry = known.models["fake"]
    path = ensure_model(entry, tmp_path)
    with path.open("r+b") as f:
        f.truncate(1000)
    assert ensure_model(entry, tmp_path).read_bytes() == data


def test_a_byte_flipped_inside_is_noticed_and_assembled_again(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    """Same size: the changed mtime makes the hash be checked again; with the old mtime and
    inode put back, a check asked for (the file failed to load) still finds it."""
    known, data = fake_model
    entry = known.models["fake"]
    path = ensure_model(entry, tmp_path)
    before = path.stat()
    with path.open("r+b") as f:
        f.seek(len(data) // 2)
        f.write(b"\xee")
    assert not models.is_assembled(entry, tmp_path)
    assert ensure_model(entry, tmp_path).read_bytes() == data
    with path.open("r+b") as f:
        f.seek(10)
        f.write(b"\xee")
    recorded_mtime = int(models._marker(path).read_text().split()[2])
    os.utime(path, ns=(path.stat().st_atime_ns, recorded_mtime))
    assert models.is_assembled(entry, tmp_path)  # nothing shows it: trusted as recorded
    assert ensure_model(entry, tmp_path, recheck=True).read_bytes() == data
    assert before.st_size == path.stat().st_size


def test_pull_does_not_call_a_damaged_file_ready(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    known, data = fake_model
    entry = known.models["fake"]
    path = ensure_model(entry, tmp_path)
    with path.open("r+b") as f:
        f.write(b"XXXX")  # the header
    assert pull(entry, tmp_path) == (path, "installed packages")
    assert path.read_bytes() == data
    assert pull(entry, tmp_path) == (path, "cache")


def test_a_damaged_part_is_refused_and_nothing_is_left(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    entry, files = installed_parts(fake_model[0])
    with files[1].open("r+b") as f:
        f.write(b"\xff")
    with pytest.raises(EngineError) as error:
        ensure_model(entry, tmp_path)
    assert error.value.code == "model-corrupt" and "SHA-256" in error.value.message
    assert not (tmp_path / "models" / "fake.gguf").exists()
    assert not list((tmp_path / "models").glob(".*"))


def test_a_missing_part_package_names_the_install_command(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    entry, files = installed_parts(fake_model[0])
    files[2].unlink()
    with pytest.raises(EngineError) as error:
        ensure_model(entry, tmp_path)
    message = error.value.message
    assert "chmo-fake-part3==1.0" in message
    assert "pip install 'chmocoder[model-fake]'" in message and "\n" not in message


def test_model_names_resolve_through_the_catalogue(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"no model named .qwen-9000.*qwen2\.5-coder-1\.5b"):
        resolve_model("qwen-9000", tmp_path)
    with pytest.raises(EngineError, match="does not exist"):
        resolve_model(str(tmp_path / "nope.gguf"), tmp_path)


def test_gemma_is_assembled_from_its_installed_packages(gemma_model: Path) -> None:
    entry = catalogue().models["gemma3-270m"]
    assert entry.pypi is not None
    assert gemma_model.name == entry.file and gemma_model.stat().st_size == entry.pypi.size


# --- the hub, against a local stand-in -----------------------------------------------------


class StandIn(http.server.ThreadingHTTPServer):
    files: dict[str, bytes]
    requests: list[str]


class Hub(http.server.BaseHTTPRequestHandler):
    """Answers HEAD and GET /{repo}/resolve/{revision}/{file} as the hub does for an LFS file:
    X-Repo-Commit, the SHA-256 as ETag, ranges for resumed downloads."""

    server: StandIn

    def log_message(self, *args: Any) -> None:
        pass

    def _file(self) -> bytes | None:
        match = re.fullmatch(r"/(.+)/resolve/([^/]+)/(.+)", self.path.split("?")[0])
        return self.server.files.get(match.group(1) + "/" + match.group(3)) if match else None

    def _answer(self, method: str) -> bytes | None:
        """Headers for the file (from byte `Range` on, if asked); None after a 404."""
        self.server.requests.append(
            f"{method} {self.path} {self.headers.get('Range', '')}".rstrip()
        )
        body = self._file()
        if body is None:
            self.send_error(404)
            return None
        ranged = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        start = int(ranged.group(1)) if ranged else 0
        self.send_response(206 if ranged else 200)
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("Accept-Ranges", "bytes")
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        return body[start:]

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        part = self._answer("GET")
        if part is not None:
            self.wfile.write(part)


@pytest.fixture
def hub() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Hub)
    server.files, server.requests = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_pull_downloads_from_the_hub_when_no_package_is_installed(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path, hub: StandIn
) -> None:
    entry, data = not_installed(fake_model)  # the hub is the only source
    hub.files["someone/fake-GGUF/fake-q4.gguf"] = data
    endpoint = f"http://127.0.0.1:{hub.server_address[1]}"
    seen: list[tuple[int, int]] = []
    path, origin = pull(entry, tmp_path, lambda d, t: seen.append((d, t)), endpoint=endpoint)
    assert origin == "hub" and path.read_bytes() == data
    assert seen and seen[-1] == (len(data), len(data))
    assert any(
        r.startswith("GET /someone/fake-GGUF/resolve/main/fake-q4.gguf") for r in hub.requests
    )
    assert models.is_assembled(entry, tmp_path)
    hub.requests.clear()
    assert pull(entry, tmp_path, endpoint=endpoint) == (path, "cache")
    assert hub.requests == []  # already in the cache: no network


def test_a_hub_file_with_the_wrong_hash_is_refused(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path, hub: StandIn
) -> None:
    entry, data = not_installed(fake_model)
    pinned = models.CatalogueModel(
        **{**entry.__dict__, "hub": models.HubSource("someone/fake-GGUF", "fake-q4.gguf", "0" * 64)}
    )
    hub.files["someone/fake-GGUF/fake-q4.gguf"] = data
    with pytest.raises(EngineError) as error:
        pull(pinned, tmp_path, endpoint=f"http://127.0.0.1:{hub.server_address[1]}")
    assert error.value.code == "model-corrupt"
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_a_hub_serving_other_bytes_with_their_own_hash_is_refused(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path, hub: StandIn
) -> None:
    entry, data = not_installed(fake_model)
    hub.files["someone/fake-GGUF/fake-q4.gguf"] = b"other bytes" + data[11:]
    with pytest.raises(EngineError) as error:
        pull(entry, tmp_path, endpoint=f"http://127.0.0.1:{hub.server_address[1]}")
    assert error.value.code == "model-corrupt" and "serves other bytes" in error.value.message
    assert not any(r.startswith("GET") for r in hub.requests)  # refused before downloading
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_no_source_reachable_is_one_clear_line(
    fake_model: tuple[Catalogue, bytes], tmp_path: Path
) -> None:
    entry, _ = not_installed(fake_model)
    with socket_closed() as endpoint, pytest.raises(EngineError) as error:
        pull(entry, tmp_path, endpoint=endpoint)
    message = error.value.message
    assert error.value.code == "model-unreachable" and "\n" not in message
    assert "could not download fake" in message
    assert "pip install 'chmocoder[model-fake]'" in message


class socket_closed:
    """An endpoint on this machine where nothing listens."""

    def __enter__(self) -> str:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        pass


def test_cli_model_list_shows_every_catalogue_entry(capsys: pytest.CaptureFixture[str]) -> None:
    from chmocoder.cli import main

    assert main(["model", "list"]) == 0
    out = capsys.readouterr().out
    for name in catalogue().names:
        assert re.search(rf"^{re.escape(name)}\s+\d+ MiB\s+(yes|no)\s+(yes|no)", out, re.M)
    assert "(default)" in out


def test_cli_pull_of_an_unknown_name_says_what_exists(capsys: pytest.CaptureFixture[str]) -> None:
    from chmocoder.cli import main

    assert main(["model", "pull", "llama-70b"]) == 2
    assert "qwen2.5-coder-0.5b" in capsys.readouterr().err


async def test_a_catalogue_model_that_fails_to_load_is_checked_and_assembled_again(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged header that its size and times do not show: the load fails, the hash is
    checked again, the file assembled anew, and the model starts."""
    from chmocoder.engine.engine import Engine

    from ..support.common import engine_config

    data = tiny_model.read_bytes()
    monkeypatch.setattr(models, "_loaded", fake_catalogue(tmp_path / "site", monkeypatch, data))
    cache = tmp_path / "cache"
    path = resolve_model("fake", cache)
    recorded = models._marker(path).read_text()
    with path.open("r+b") as f:
        f.write(b"GGUX")
    recorded_mtime = int(recorded.split()[2])
    os.utime(path, ns=(path.stat().st_atime_ns, recorded_mtime))
    assert models.is_assembled(models.catalogue().models["fake"], cache)  # it looks fine
    engine = Engine(engine_config(model="fake", cache_dir=cache, n_ctx=1024, idle_s=5))
    try:
        info = await engine.start()
    finally:
        await engine.close()
    assert info.context_length == 1024
    assert path.read_bytes() == data
