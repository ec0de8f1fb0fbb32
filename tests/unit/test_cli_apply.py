"""`fix --apply` loses nothing: backups never through links, a file changed meanwhile, mode,
owner, links, read-only files and folders (real files, real links, a second user)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.edits import line_span
from chmocoder.assist.results import Edit
from chmocoder.cli_apply import ApplyError, apply_fix

REGISTRY = LanguageRegistry()
OLD = "def mean(xs):\n    return sum(xs) / (len(xs) - 1)\n"
NEW_BODY = "def mean(xs):\n    return sum(xs) / len(xs)"
ROOT = Path(__file__).resolve().parents[2]


def prepared(path: Path, text: str = OLD) -> tuple[Document, Edit]:
    """The document as the model saw it, and the verified edit of `mean`."""
    source = text.encode()
    doc = Document(path.resolve().as_uri(), source, language=REGISTRY.lookup(path=path.name))
    a, b = line_span(doc, text.index("def mean"), text.index("- 1)") + 4)
    return doc, Edit(a, b, NEW_BODY)


def test_a_symlink_at_the_backup_name_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    (tmp_path / "stats.py.orig").symlink_to(victim)
    doc, edit = prepared(target)
    applied = apply_fix(target, doc, edit)
    assert victim.read_text() == "precious\n"
    assert applied.backup.name == "stats.py.orig.1" and applied.backup.read_text() == OLD
    assert "len(xs)\n" in target.read_text()


def test_a_second_apply_keeps_the_first_backup(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    doc, edit = prepared(target)
    first = apply_fix(target, doc, edit).backup
    target.write_text(OLD + "# edited by hand\n")
    doc, edit = prepared(target, OLD + "# edited by hand\n")
    second = apply_fix(target, doc, edit).backup
    assert first.read_text() == OLD and second.read_text() == OLD + "# edited by hand\n"


def test_a_file_changed_while_the_model_worked_is_re_anchored(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    doc, edit = prepared(target)
    target.write_text("import math\n\n\n" + OLD + "\n\ndef added_meanwhile():\n    return 1\n")
    applied = apply_fix(target, doc, edit)
    text = target.read_text()
    assert applied.reanchored and "def added_meanwhile():" in text and "/ len(xs)\n" in text
    assert text.startswith("import math\n")


def test_a_file_whose_target_changed_is_refused_untouched(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    doc, edit = prepared(target)
    changed = OLD.replace("- 1)", "- 2)") + "\ndef added():\n    pass\n"
    target.write_text(changed)
    with pytest.raises(ApplyError, match="changed while the model was working"):
        apply_fix(target, doc, edit)
    assert target.read_text() == changed and not list(tmp_path.glob("*.orig*"))


def test_mode_owner_and_group_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    target.chmod(0o640)
    if os.getuid() == 0:
        os.chown(target, 12345, 23456)
    doc, edit = prepared(target)
    apply_fix(target, doc, edit)
    info = target.stat()
    assert oct(info.st_mode & 0o777) == "0o640" and "len(xs)\n" in target.read_text()
    if os.getuid() == 0:
        assert (info.st_uid, info.st_gid) == (12345, 23456)


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(OLD)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    doc, edit = prepared(link)
    apply_fix(link, doc, edit)
    assert link.is_symlink() and "len(xs)\n" in real.read_text()


def test_hard_links_all_see_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    other = tmp_path / "other.py"
    os.link(target, other)
    doc, edit = prepared(target)
    apply_fix(target, doc, edit)
    assert "len(xs)\n" in other.read_text() and target.stat().st_ino == other.stat().st_ino


def test_a_read_only_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "stats.py"
    target.write_text(OLD)
    target.chmod(0o444)
    doc, edit = prepared(target)
    with pytest.raises(ApplyError, match="read-only"):
        apply_fix(target, doc, edit)
    assert target.read_text() == OLD and not list(tmp_path.glob("*.orig*"))


@pytest.mark.skipif(
    shutil.which("setpriv") is None or os.getuid() != 0, reason="needs root and setpriv"
)
def test_a_read_only_folder_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    """As another user (nobody): the file is writable, its folder is not."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="chmo-ro-"))  # pytest's own folder is closed to others
    base.chmod(0o755)
    folder = base / "ro"
    folder.mkdir()
    target = folder / "stats.py"
    target.write_text(OLD)
    os.chown(target, 65534, 65534)
    os.chown(folder, 65534, 65534)
    folder.chmod(0o555)
    script = (
        "import sys; from pathlib import Path\n"
        "from tests.unit.test_cli_apply import prepared\n"
        "from chmocoder.cli_apply import ApplyError, apply_fix\n"
        f"p = Path({str(target)!r}); doc, edit = prepared(p)\n"
        "try:\n    apply_fix(p, doc, edit)\nexcept ApplyError as e:\n    print(e); sys.exit(4)\n"
    )
    result = subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable, "-c", script],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "not writable" in result.stdout and "Traceback" not in result.stderr
    assert target.read_text() == OLD
    shutil.rmtree(base)


RACER = """
import sys, time
from pathlib import Path
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.edits import line_span
from chmocoder.assist.results import Edit
from chmocoder.cli_apply import ApplyError, apply_fix
path, start_at, new_text = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
text = path.read_text()
doc = Document(path.resolve().as_uri(), text.encode(), language=LanguageRegistry().lookup(path=path.name))
a, b = line_span(doc, text.index("def mean"), text.index("- 1)") + 4)
time.sleep(max(0.0, start_at - time.time()))
try:
    apply_fix(path, doc, Edit(a, b, new_text))
    print("applied")
except ApplyError as exc:
    print("refused", exc)
"""


def test_two_runs_at_once_never_lose_a_fix(tmp_path: Path) -> None:
    """Two `fix --apply` processes on one file at the same moment, 12 rounds: whatever a run
    reports as applied is in the file, and the other re-anchors or refuses."""
    import time

    target = tmp_path / "stats.py"
    fixes = ("def mean(xs):\n    return sum(xs) / len(xs)",
             "def mean(xs):\n    return sum(xs) / max(len(xs), 1)")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(12):
        target.write_text(OLD)
        start_at = time.time() + 1.0  # both are past their imports by then
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(target), str(start_at), fix],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for fix in fixes
        ]
        said = [racer.communicate(timeout=60)[0].strip() for racer in racers]
        final = target.read_text()
        applied = [fix for fix, out in zip(fixes, said, strict=True) if out == "applied"]
        assert len(applied) == 1, said
        assert applied[0] in final and final.count("def mean") == 1
        refused = next(out for out in said if out != "applied")
        assert refused.startswith("refused") and "changed while the model was working" in refused
        for backup in tmp_path.glob("stats.py.orig*"):
            backup.unlink()
