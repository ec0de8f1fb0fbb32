"""The language registry: grammars/languages.toml, grammar modules and compiled queries."""

from __future__ import annotations

import importlib
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from tree_sitter import Language, Query

_INHERITS = re.compile(r"\A;\s*inherits:\s*([\w ,]+)")


def grammars_dir() -> Path:
    """Where languages.toml and the .scm files live: inside the wheel, or the source tree."""
    packaged = Path(__file__).resolve().parent.parent / "grammars"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "grammars"


class GrammarUnavailable(Exception):
    """A language is configured but its grammar module cannot be loaded."""


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    language_ids: tuple[str, ...]
    extensions: tuple[str, ...]
    filenames: tuple[str, ...]
    module: str
    function: str


@dataclass
class LanguageSupport:
    """A loaded grammar with its compiled queries (None where the language has none)."""

    spec: LanguageSpec
    language: Language
    tags: Query
    imports: Query | None

    @property
    def name(self) -> str:
        return self.spec.name


class LanguageRegistry:
    """Maps language ids and file names to grammars. Grammars load on first use."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or grammars_dir()
        data = tomllib.loads((self.directory / "languages.toml").read_text(encoding="utf-8"))
        self.specs: dict[str, LanguageSpec] = {
            name: _spec(name, table) for name, table in data.items()
        }
        self._by_id = {lid: s for s in self.specs.values() for lid in s.language_ids}
        self._loaded: dict[str, LanguageSupport] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[LanguageSpec]:
        return iter(self.specs.values())

    def spec_for(
        self, *, language_id: str | None = None, path: str | None = None
    ) -> LanguageSpec | None:
        """The language for an LSP languageId, else for a file name; None if unknown."""
        if language_id and language_id in self._by_id:
            return self._by_id[language_id]
        if language_id and language_id in self.specs:
            return self.specs[language_id]
        if path:
            name = PurePath(path).name
            for spec in self.specs.values():
                if name in spec.filenames or name.lower().endswith(spec.extensions):
                    return spec
        return None

    def support(self, name: str) -> LanguageSupport:
        """The loaded grammar and queries; raises GrammarUnavailable with the reason."""
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            if name in self._failed:
                raise GrammarUnavailable(self._failed[name])
            try:
                support = self._load(self.specs[name])
            except Exception as exc:
                reason = _describe_failure(self.specs.get(name), exc)
                self._failed[name] = reason
                raise GrammarUnavailable(reason) from exc
            self._loaded[name] = support
            return support

    def lookup(
        self, *, language_id: str | None = None, path: str | None = None
    ) -> LanguageSupport | None:
        """The loaded support for a document, or None (unknown language or missing grammar)."""
        spec = self.spec_for(language_id=language_id, path=path)
        if spec is None:
            return None
        try:
            return self.support(spec.name)
        except GrammarUnavailable:
            return None

    def status(self) -> dict[str, str | None]:
        """Every configured language -> None if it loads, else the reason it does not."""
        result: dict[str, str | None] = {}
        for name in self.specs:
            try:
                self.support(name)
                result[name] = None
            except GrammarUnavailable as exc:
                result[name] = str(exc)
        return result

    def query_source(self, language: str, file_name: str) -> str | None:
        """A query file's text with its `; inherits:` parents prepended, or None if absent."""
        path = self.directory / language / file_name
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
        parts: list[str] = []
        match = _INHERITS.match(text)
        if match:
            for parent in (p.strip() for p in match.group(1).split(",")):
                inherited = self.query_source(parent, file_name)
                if inherited:
                    parts.append(inherited)
        parts.append(text)
        return "\n".join(parts)

    def _load(self, spec: LanguageSpec) -> LanguageSupport:
        module = importlib.import_module(spec.module)
        factory: Callable[[], Any] = getattr(module, spec.function)
        language = Language(factory())
        tags_source = self.query_source(spec.name, "tags.scm")
        if tags_source is None:
            raise FileNotFoundError(f"grammars/{spec.name}/tags.scm is missing")
        imports_source = self.query_source(spec.name, "imports.scm")
        return LanguageSupport(
            spec=spec,
            language=language,
            tags=Query(language, tags_source),
            imports=Query(language, imports_source) if imports_source else None,
        )


def _spec(name: str, table: dict[str, Any]) -> LanguageSpec:
    return LanguageSpec(
        name=name,
        language_ids=tuple(table.get("language_ids", [name])),
        extensions=tuple(e.lower() for e in table.get("extensions", [])),
        filenames=tuple(table.get("filenames", [])),
        module=table["module"],
        function=table.get("function", "language"),
    )


def _describe_failure(spec: LanguageSpec | None, exc: Exception) -> str:
    if spec is None:
        return "unknown language"
    if isinstance(exc, ModuleNotFoundError):
        package = spec.module.replace("_", "-")
        return f"grammar module {spec.module} is not installed (pip install {package})"
    return f"{type(exc).__name__}: {exc}"
