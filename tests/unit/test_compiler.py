"""assist/compiler.py with the real compilers (C: cc; Rust: rustc; Python: compile()):
an edit is refused only for an error it adds, whatever the file got wrong before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chmocoder.assist import compiler
from chmocoder.assist.compiler import added_error

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler on PATH")
needs_rustc = pytest.mark.skipif(shutil.which("rustc") is None, reason="no rustc on PATH")

C_FILE = b"""#include <stddef.h>

/* Index of the largest value; 0 for an empty array. */
size_t argmax(const long *a, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (a[i] > a[best]) best = i;
    return best;
}
"""

RUST_FILE = b"""/// Words of `text` joined into lines of at most `width` characters.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(line);
            line = String::new();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
"""


@needs_cc
def test_c_an_undeclared_name_the_edit_adds_is_refused_with_its_line() -> None:
    after = C_FILE.replace(b"return best;", b"return best < LONG_MAX ? best : 0;")
    why = added_error("c", C_FILE, after, "file:///work/argmax.c")
    assert why is not None and "LONG_MAX" in why and why.endswith("at line 8")
    fine = C_FILE.replace(b"size_t i = 1", b"size_t i = 0")
    assert added_error("c", C_FILE, fine, "file:///work/argmax.c") is None


@needs_cc
def test_c_errors_the_file_had_before_are_not_held_against_an_edit(tmp_path: Path) -> None:
    """The file uses a name nothing declares (declared in a header not found alone): the
    same error after the edit is no reason; a new one within the edit's rows is."""
    before = C_FILE.replace(b"return best;", b"return best + OFFSET;")
    after = before.replace(b"size_t i = 1", b"size_t i = 0")
    uri = (tmp_path / "argmax.c").as_uri()
    assert added_error("c", before, after, uri, (3, 8)) is None
    worse = after.replace(b"best = i;", b"best = j;")
    why = added_error("c", before, worse, uri, (3, 8))
    assert why is not None and "j" in why and "undeclared" in why and "OFFSET" not in why


def test_errors_a_mend_uncovers_elsewhere_are_not_the_edit_s() -> None:
    """Python's compile() reports its first error only: mending the first of two syntax
    errors uncovers the second, which the file had all along; it is held against the edit
    only if it is within the edit's rows (or the file had no error before)."""
    before = b"def f(a, a):\n    return a\n\n\ndef g(b, b):\n    return b\n"
    after = before.replace(b"def f(a, a)", b"def f(a, c)")
    assert added_error("python", before, after, rows=(0, 1)) is None
    why = added_error("python", before, after, rows=(4, 5))
    assert why is not None and "duplicate argument 'b'" in why
    clean = before.replace(b"def f(a, a)", b"def f(a, c)").replace(b"g(b, b)", b"g(b, d)")
    assert added_error("python", clean, clean.replace(b"g(b, d)", b"g(b, b)"), rows=(0, 1))


@needs_cc
def test_c_a_quoted_include_is_found_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "limits_local.h").write_text("#define BIG 100\n")
    before = b'#include "limits_local.h"\n' + C_FILE
    after = before.replace(b"return best;", b"return best < BIG ? best : 0;")
    assert added_error("c", before, after, (tmp_path / "argmax.c").as_uri()) is None


@needs_rustc
def test_rust_a_type_mismatch_and_a_moved_value_are_refused() -> None:
    uri = "file:///work/wrap.rs"
    unit = RUST_FILE.replace(
        b"    line = String::new();\n        }", b"    line.clear();\n        }"
    )
    why = added_error("rust", RUST_FILE, unit, uri)
    assert why is not None and "moved" in why  # `line` was pushed, then used
    typed = RUST_FILE.replace(
        b"lines.push(line);\n    }\n    lines", b"lines.push(line);\n    }\n    0"
    )
    why = added_error("rust", RUST_FILE, typed, uri)
    assert why is not None and "mismatched types" in why and "at line 18" in why
    fine = RUST_FILE.replace(b"> width", b">= width")
    assert added_error("rust", RUST_FILE, fine, uri) is None


@needs_rustc
def test_rust_a_module_of_a_crate_is_compared_with_itself(tmp_path: Path) -> None:
    """Alone, `mod` and `crate::` paths do not resolve: the same before and after."""
    before = b"mod helpers;\nuse crate::helpers::pad;\n" + RUST_FILE
    after = before.replace(b"> width", b">= width")
    assert added_error("rust", before, after, (tmp_path / "wrap.rs").as_uri()) is None


@needs_rustc
def test_rust_the_edition_comes_from_the_nearest_cargo_toml(tmp_path: Path) -> None:
    """`async fn` is an error in Rust 2015 only: an edit that adds one is refused under a
    manifest that names 2015 (or none), not under 2021 or a workspace's 2021."""
    crate = tmp_path / "crate" / "src"
    crate.mkdir(parents=True)
    manifest = tmp_path / "crate" / "Cargo.toml"
    before = b"pub fn one() -> u8 { 1 }\n"
    after = b"pub async fn one() -> u8 { 1 }\n"
    uri = (crate / "lib.rs").as_uri()
    for text, refused in [
        ('[package]\nname = "x"\nedition = "2015"\n', True),
        ('[package]\nname = "x"\n', True),
        ('[package]\nname = "x"\nedition = "2021"\n', False),
        ('[package]\nname = "x"\nedition.workspace = true\n', False),
    ]:
        manifest.write_text(text)
        (tmp_path / "Cargo.toml").write_text('[workspace.package]\nedition = "2021"\n')
        compiler._CACHE.clear()
        assert (added_error("rust", before, after, uri) is not None) is refused, text


def test_python_what_the_interpreter_refuses_is_refused() -> None:
    before = b"def f(a, b):\n    return a + b\n"
    why = added_error("python", before, b"def f(a, a):\n    return a + a\n")
    assert why is not None and "duplicate argument" in why and why.endswith("at line 1")
    assert added_error("python", before, b"def f(a, b):\n    return a - b\n") is None


@needs_cc
def test_an_edit_that_adds_a_file_inclusion_is_not_compiled() -> None:
    """The compiler would read the file it names: not compiled, so not refused here (the
    same edit without the inclusion is)."""
    broken = C_FILE.replace(b"return best;", b"return best + undeclared;")
    assert added_error("c", C_FILE, broken) is not None
    included = broken.replace(b"return best", b'#include "/etc/hostname"\n    return best')
    assert added_error("c", C_FILE, included) is None
    rust = RUST_FILE.replace(b"    lines\n}", b'    let _ = include_bytes!("/dev/zero");\n    0\n}')
    assert added_error("rust", RUST_FILE, rust) is None


def test_no_check_without_a_compiler_or_for_other_languages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    compiler._CACHE.clear()
    assert added_error("c", C_FILE, C_FILE.replace(b"return best;", b"return nope;")) is None
    assert added_error("javascript", b"let a = 1;\n", b"let a = ;\n") is None
