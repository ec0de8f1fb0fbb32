"""The workspace index: what it skips, per-file updates, lookups while building."""

from __future__ import annotations

from pathlib import Path

from chmocoder.analysis.index import WorkspaceIndex
from chmocoder.analysis.languages import LanguageRegistry


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_index_skips_ignored_binary_and_large(tmp_path: Path, registry: LanguageRegistry) -> None:
    _tree(
        tmp_path,
        {
            ".gitignore": b"build/\n*.gen.py\n",
            "src/app.py": b"def handler(request):\n    '''Serve it.'''\n    return 1\n",
            "src/util.go": b"package util\n\n// Sum adds.\nfunc Sum(a, b int) int { return a }\n",
            "src/sub/.gitignore": b"local.py\n",
            "src/sub/local.py": b"def ignored_nested(): pass\n",
            "src/sub/kept.py": b"def kept(): pass\n",
            "build/out.py": b"def ignored_build(): pass\n",
            "x.gen.py": b"def ignored_generated(): pass\n",
            "blob.py": b"def binary():\x00 pass\n",
            "huge.py": b"def huge(): pass\n" + b"#" * 1_100_000,
            "node_modules/lib.js": b"function ignoredModule() {}\n",
            "README.md": b"# not source\n",
        },
    )
    index = WorkspaceIndex(tmp_path, registry)
    index.start()
    assert index.wait(30)
    assert [(d.path, d.kind, d.doc) for d in index.lookup("handler")] == [
        ("src/app.py", "function", "Serve it.")
    ]
    assert [d.path for d in index.lookup("Sum")] == ["src/util.go"]
    assert index.lookup("kept")
    for name in (
        "ignored_nested",
        "ignored_build",
        "ignored_generated",
        "binary",
        "huge",
        "ignoredModule",
    ):
        assert index.lookup(name) == [], name
    assert index.skipped == {"blob.py": "binary", "huge.py": "over 1000 KB (1100 KB)"}


def test_update_and_remove_file(tmp_path: Path, registry: LanguageRegistry) -> None:
    _tree(tmp_path, {"a.py": b"def old_name(): pass\n"})
    index = WorkspaceIndex(tmp_path, registry)
    index.start()
    index.wait(10)
    assert index.lookup("old_name")
    index.update_file(tmp_path / "a.py", b"def new_name(): pass\n")
    assert index.lookup("old_name") == []
    assert index.lookup("new_name")[0].path == "a.py"
    index.remove_file(tmp_path / "a.py")
    assert index.lookup("new_name") == []
    assert index.file_count() == 0


def test_files_outside_root_are_ignored(tmp_path: Path, registry: LanguageRegistry) -> None:
    (tmp_path / "root").mkdir()
    outside = tmp_path / "other.py"
    outside.write_bytes(b"def outside(): pass\n")
    index = WorkspaceIndex(tmp_path / "root", registry)
    index.update_file(outside)
    assert index.lookup("outside") == []


def test_progress_and_file_limit(tmp_path: Path, registry: LanguageRegistry) -> None:
    _tree(tmp_path, {f"m{i:03}.py": f"def f{i}(): pass\n".encode() for i in range(450)})
    reports: list[tuple[int, int]] = []
    index = WorkspaceIndex(tmp_path, registry, max_files=300)
    index.start(lambda done, found: reports.append((done, found)))
    assert index.wait(30)
    assert index.file_count() == 300
    assert reports[0] == (200, 200) and reports[-1] == (300, 300)
