"""Every query file compiles against its grammar and keeps the capture contract."""

from __future__ import annotations

import re

import pytest

from chmocoder.analysis.languages import LanguageRegistry

ALLOWED_CAPTURE = re.compile(r"^(name|doc|import|definition\.\w+|reference\.\w+|_\w*)$")
REQUIRED = [
    "python", "javascript", "typescript", "tsx", "go", "rust", "java",
    "c", "cpp", "c_sharp", "ruby", "php", "bash", "lua",
]  # fmt: skip


def test_every_required_language_is_configured(registry: LanguageRegistry) -> None:
    assert sorted(registry.specs) == sorted(REQUIRED)


@pytest.mark.parametrize("language", REQUIRED)
def test_queries_compile_and_use_contract_captures(
    registry: LanguageRegistry, language: str
) -> None:
    support = registry.support(language)
    queries = [support.tags] + ([support.imports] if support.imports else [])
    for query in queries:
        names = {query.capture_name(i) for i in range(query.capture_count)}
        assert names, f"{language}: a query with no captures"
        bad = {n for n in names if not ALLOWED_CAPTURE.match(n)}
        assert not bad, f"{language}: captures outside the contract: {bad}"
    tag_names = {support.tags.capture_name(i) for i in range(support.tags.capture_count)}
    assert "name" in tag_names
    assert any(n.startswith("definition.") for n in tag_names)
    assert "reference.call" in tag_names


def test_inherited_query_includes_parent(registry: LanguageRegistry) -> None:
    source = registry.query_source("cpp", "tags.scm")
    assert source is not None
    assert "function_declarator declarator: (identifier) @name" in source  # from c/tags.scm


def test_missing_grammar_module_is_reported_not_raised(
    tmp_path, registry: LanguageRegistry
) -> None:
    (tmp_path / "languages.toml").write_text(
        '[python]\nmodule = "tree_sitter_python"\nextensions = [".py"]\n'
        '[klingon]\nmodule = "tree_sitter_klingon"\nextensions = [".kl"]\n'
    )
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "tags.scm").write_text(
        (registry.directory / "python" / "tags.scm").read_text()
    )
    custom = LanguageRegistry(tmp_path)
    status = custom.status()
    assert status["python"] is None
    assert "tree_sitter_klingon is not installed" in (status["klingon"] or "")
    assert custom.lookup(path="x.kl") is None
