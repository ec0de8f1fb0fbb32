"""Reviews look at one unit at a time (a definition, or the file's module-level code), only at
units whose text changed, and keep only findings that survive the filters below.

How a unit is reviewed (decided on bench/quality; see the README): a small model asked
"is there a bug?" says no to almost everything, and asked for findings as JSON it flags
clean and buggy code alike. What it does well is fix a bug it is told exists, and what
separates real bugs from invented ones is agreement: independent fixes of a real bug change
the same line, invented ones scatter. So a review asks for several sampled fixes (the
REVIEW_SAMPLES) and reports the line enough of them change (MIN_CONFIDENCE; two of three
on a line where the model finds a token odd, SUSPECT_NATS), with a fix's diagnosis as the
message. What the parse tree shows for certain (a name used
where no declaration reaches it, a value computed and dropped: analysis/problems.py) is told
to the samples and reported whatever they agree on: it holds on every clean program of
bench/quality and had few finds, nearly all real, on 20,000 source files."""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from chmocoder.analysis.document import Document
from chmocoder.analysis.problems import by_line, problem_rows
from chmocoder.analysis.symbols import definitions
from chmocoder.assist import prompts
from chmocoder.assist.edits import (
    changed_rows,
    code_changed_rows,
    extract_code,
    extract_description,
    indentation_of,
    line_span,
    reindent,
)
from chmocoder.assist.generation import Generation, Request
from chmocoder.assist.odds import line_odds, token_odds
from chmocoder.assist.prompts import PromptSpec
from chmocoder.assist.results import Edit, Finding
from chmocoder.engine.types import EngineError, GenerationParams, Priority

log = logging.getLogger(__name__)

SUSPECT_CONFIDENCE = 66
"""A line fewer samples change (two of three) is reported when the model also finds it odd:
one of its tokens at least SUSPECT_NATS surprising (see _line_odds)."""
SUSPECT_NATS = 6.0
"""-ln p of a token the model gave under 1 chance in 400. Chosen on bench/quality's dev
split with the default model (README, "Answer quality"): buggy lines hold such tokens more often
than the lines samples change in clean code."""

MIN_CONFIDENCE = 100
"""Findings with less agreement (confidence = votes / samples, in %) are dropped. Chosen on
bench/quality with the default model: all of 3 samples gave recall 55% with 0.12 false
alarms per clean definition; 2 of 3 (on 24 cases) about 0.4 false alarms; 3 of 4 (on the
first 19 cases) recall 74% but 0.39 false alarms. Noise costs users more than a miss.
Checked again on the unseen programs of bench/quality/mutants.py (candidates.py reviews, 12
buggy and 12 clean programs per split), votes by code change: all 3 gave recall 17% with
0.03 false alarms per clean definition on test (dev 8%, 0.07); 2 of 3, 58% with 0.35 (dev
50%, 0.48); 2 of 3 that also agree on the new text, 17% with 0.09."""


class ReviewFinding(BaseModel):
    line: int = Field(ge=1, le=10_000_000)
    quote: str = Field(default="", max_length=300)
    """The code on `line` the finding is about, as the model quotes it."""
    severity: Literal["error", "warning", "info"]
    message: str = Field(min_length=1, max_length=300)
    suggestion: str = Field(default="", max_length=600)
    confidence: int = Field(default=50, ge=0, le=100)


@dataclass(frozen=True)
class ReviewUnit:
    """What one model call reviews: a definition, or the module-level code (kind "module")."""

    kind: str
    name: str
    start_row: int
    end_row: int
    start_byte: int
    end_byte: int
    text: str
    """What is hashed; for the module unit, its lines with their numbers."""

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind} {self.name}\0{self.text}".encode()).hexdigest()


@dataclass(frozen=True)
class _Kept:
    """A finding relative to its unit's first line, so it follows a definition that moves."""

    row_offset: int
    severity: str
    message: str
    suggestion: str


_MODULE_NOISE = re.compile(
    r"^\s*(?:$|#|//|/\*|\*|--|import\b|from\b\S*\s+import\b|from\s+\S+\s+import\b|package\b|"
    r"use\b|using\b|require\b|#include\b|['\"]{3}|\"|'|@)"
)


def review_units(doc: Document) -> list[ReviewUnit]:
    """Every function, method and other definition that is not a class-like container (an
    outer function is reviewed as a whole, nested definitions too), plus the module-level
    statements when there are any beyond imports and comments."""
    found = definitions(doc)
    units: list[ReviewUnit] = []
    for d in found:
        if d.kind in ("class", "interface", "module", "struct", "enum", "trait", "impl") and any(
            o is not d and d.span.encloses(o.span) for o in found
        ):
            continue  # a container is reviewed through what it contains
        text = doc.source[d.span.start_byte : d.span.end_byte].decode("utf-8", errors="replace")
        units.append(
            ReviewUnit(
                d.kind,
                d.name,
                d.span.start[0],
                d.span.end[0],
                d.span.start_byte,
                d.span.end_byte,
                text,
            )
        )
    covered: set[int] = set()
    for d in found:
        covered.update(range(d.span.start[0], d.span.end[0] + 1))
    lines = doc.source.decode("utf-8", errors="replace").split("\n")
    module = [
        (row, line)
        for row, line in enumerate(lines)
        if row not in covered and not _MODULE_NOISE.match(line)
    ]
    if module:
        first, last = module[0][0], module[-1][0]
        numbered = "\n".join(f"{row + 1:>5}| {line}" for row, line in module)
        start = sum(len(line) + 1 for line in lines[:first])
        end = sum(len(line) + 1 for line in lines[: last + 1]) - 1
        units.append(ReviewUnit("module", "module-level code", first, last, start, end, numbered))
    return units


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]*", text)


def is_sentence(message: str) -> bool:
    """A finding's message must read as a sentence: words, not code or punctuation."""
    text = message.strip()
    if len(_words(text)) < 4:
        return False
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return letters >= 0.6 * len(text)


def _squash(text: str) -> str:
    return "".join(text.split())


def locate(quote: str, lines: list[str], row: int, first: int, last: int) -> int | None:
    """The row the quote is on: `row` if the quote is on it, else the nearest row of the unit
    that holds it (small models miscount lines but quote well); None if no row holds it."""
    q = _squash(quote.strip("`"))
    if len(q) < 2:
        return None
    candidates = [r for r in range(first, last + 1) if r < len(lines) and q in _squash(lines[r])]
    if not candidates:
        return None
    return min(candidates, key=lambda r: abs(r - row))


def filter_findings(
    doc: Document,
    unit: ReviewUnit,
    findings: list[ReviewFinding],
    min_confidence: int = MIN_CONFIDENCE,
) -> list[tuple[int, ReviewFinding]]:
    """(row, finding) for the findings worth showing: confident, with a quote found on (or
    moved to) its line in the unit, a message that is a sentence, not a repeat of another."""
    lines = doc.source.decode("utf-8", errors="replace").split("\n")
    kept: list[tuple[int, ReviewFinding]] = []
    for f in findings:
        if f.confidence < min_confidence or not is_sentence(f.message):
            continue
        row = locate(f.quote, lines, f.line - 1, unit.start_row, unit.end_row)
        if row is None:
            continue
        message = " ".join(f.message.split()).lower()
        if any(
            r == row or difflib.SequenceMatcher(None, message, k.message.lower()).ratio() > 0.8
            for r, k in kept
        ):
            continue
        kept.append((row, f))
    return kept


@dataclass
class ReviewState:
    """Per document: findings by unit hash. A unit whose text is unchanged keeps its findings
    (moved with it); only changed or new ones go to the model."""

    by_key: dict[str, list[_Kept]] = field(default_factory=dict)

    def plan(self, doc: Document) -> list[ReviewUnit]:
        """The units to review: those not reviewed in this text before."""
        return [unit for unit in review_units(doc) if unit.key not in self.by_key]

    def store(self, unit: ReviewUnit, kept: list[tuple[int, ReviewFinding]]) -> None:
        self.by_key[unit.key] = [
            _Kept(
                row - unit.start_row,
                f.severity,
                " ".join(f.message.split()),
                f.suggestion.strip(),
            )
            for row, f in kept
        ]

    def findings(self, doc: Document) -> list[Finding]:
        """All findings for the document as it is now (no side effects)."""
        result: list[Finding] = []
        for unit in review_units(doc):
            for k in self.by_key.get(unit.key, []):
                result.append(
                    Finding(
                        unit.start_row + k.row_offset,
                        k.severity,
                        k.message,
                        k.suggestion,
                        f"{unit.kind} {unit.name}",
                    )
                )
        return result

    def forget_missing(self, doc: Document) -> None:
        """Drop what was stored for units that are gone from the document."""
        present = {unit.key for unit in review_units(doc)}
        for key in list(self.by_key):
            if key not in present:
                del self.by_key[key]


REVIEW_SAMPLES = (
    GenerationParams(temperature=0.1, repeat_penalty=1.0, seed=1),
    GenerationParams(temperature=0.7, repeat_penalty=1.0, seed=2),
    GenerationParams(temperature=0.7, repeat_penalty=1.0, seed=3),
)
"""Independent fixes per reviewed unit: the line they agree on is the finding."""


class Review:
    """The review task: findings for a document, asking the model only about changed units."""

    def __init__(self, gen: Generation) -> None:
        self.gen = gen

    async def review(
        self,
        doc: Document,
        state: ReviewState,
        *,
        path: str | None = None,
        is_current: Callable[[], bool] = lambda: True,
    ) -> tuple[list[Finding], int]:
        """Findings for the document, asking the model only about changed units.

        Returns (findings, model calls made). Stops early when `is_current` turns
        False (the document moved on): what was reviewed so far is kept.
        """
        calls = 0
        for unit in state.plan(doc):
            if not is_current():
                break
            calls += 1
            try:
                found = await self._review_unit(doc, unit, path)
            except EngineError as exc:  # one bad answer must not stop the review of the rest
                log.warning("review of %s %s failed: %s", unit.kind, unit.name, exc.message)
                continue
            kept = filter_findings(doc, unit, found, min(MIN_CONFIDENCE, SUSPECT_CONFIDENCE))
            if len(kept) < len(found):
                log.info(
                    "review of %s %s: %d of %d findings kept",
                    unit.kind, unit.name, len(kept), len(found),
                )  # fmt: skip
            state.store(unit, kept)
        state.forget_missing(doc)
        return state.findings(doc), calls

    async def _review_unit(
        self, doc: Document, unit: ReviewUnit, path: str | None
    ) -> list[ReviewFinding]:
        """The line all the sampled fixes change (else the first that two of them change where
        the model finds a token odd: _line_odds, asked only when a finding depends on it),
        and each problem the tree shows for certain
        (analysis/problems.py: told to the samples too, and reported whether or not they
        agree on it, with the first sample's change of its line as the suggestion)."""
        gen = self.gen
        rows, lines = _unit_lines(doc, unit)
        certain: list[tuple[int, str]] = []
        if unit.kind != "module":
            certain = problem_rows(doc, unit.start_byte, unit.end_byte)

        def make(budget: int) -> PromptSpec:
            if unit.kind == "module":
                ctx = f"File: {path or doc.uri}" + (
                    f" ({doc.language_name})\n" if doc.language_name else "\n"
                )
            else:
                ctx = gen.context(doc, unit.start_byte, path, budget).render()
            return prompts.edit_prompt(
                ctx,
                doc.language_name or "",
                "\n".join(lines),
                "fix",
                gen.settings.audience,
                problems=tuple(by_line(certain)),
            )

        target = "\n".join(lines)
        request = await gen.fit("review", make, gen.code_budget(target))
        # each sample rewrites the unit: drafted from it, as a fix's candidates are
        wanted = [p.model_copy(update={"prediction": target}) for p in REVIEW_SAMPLES]
        votes: dict[int, int] = {}
        said: dict[int, tuple[str, str]] = {}
        needed = _votes_for(MIN_CONFIDENCE)  # votes a finding needs
        needed_suspect = _votes_for(SUSPECT_CONFIDENCE)  # ... on a line the model finds odd
        odds: dict[int, float] | None = None

        async def suspect(index: int) -> bool:
            nonlocal odds
            if odds is None:  # asked once, and only when a finding depends on it
                odds = await _line_odds(gen, doc, unit, rows) if unit.kind != "module" else {}
            return odds.get(index, 0.0) >= SUSPECT_NATS

        async def odd_line(least: int) -> int | None:
            """The first line with at least `least` votes that the model finds odd."""
            for index, count in sorted(votes.items()):
                if count >= least and await suspect(index):
                    return index
            return None

        ready: list[str] = []  # samples that came in one request with an earlier one
        for number in range(1, len(REVIEW_SAMPLES) + 1):
            if not ready:
                ready = await _samples(gen, request, wanted[number - 1 :])
            text = ready.pop(0)
            if "```" in text:  # no code: the model found nothing to change ("No bug.")
                for index, replacement in _changes(doc, unit, lines, extract_code(text)).items():
                    votes[index] = votes.get(index, 0) + 1
                    said.setdefault(index, (extract_description(text), replacement))
            left = len(REVIEW_SAMPLES) - number
            if max(votes.values(), default=0) + left >= needed:
                continue
            if left and await odd_line(needed_suspect - left) is not None:
                continue
            # no line can be agreed on any more: the rest cannot change the outcome
            gen.outcome("review", f"stopped after {number} of {len(REVIEW_SAMPLES)}")
            break
        found = [_certain(rows, lines, row, text, said) for row, text in certain if row in rows]
        index, count = max(votes.items(), key=lambda kv: (kv[1], -kv[0]), default=(0, 0))
        if 0 < count < needed:  # no line all agree on: the first that two do and looks odd
            odd = await odd_line(needed_suspect)
            index = -1 if odd is None else odd
        if index in said:
            message, replacement = said[index]
            if not is_sentence(message):
                message = "This line does not seem to do what the code is meant to do."
            found.append(
                ReviewFinding(
                    line=rows[index] + 1,
                    quote=lines[index].strip()[:300] or "?",
                    severity="warning",
                    message=message[:300],
                    suggestion=_suggestion(replacement),
                    confidence=votes[index] * 100 // len(REVIEW_SAMPLES),
                )
            )
        return found


def _votes_for(confidence: int) -> int:
    return -(-confidence * len(REVIEW_SAMPLES) // 100)


async def _line_odds(
    gen: Generation, doc: Document, unit: ReviewUnit, rows: list[int]
) -> dict[int, float]:
    """Index (in the unit's lines) -> how odd the model finds the line (odds.line_odds)."""
    scored = await token_odds(
        gen, doc, unit.start_byte, unit.end_byte, "review", f"{unit.kind} {unit.name}"
    )
    odds = line_odds(doc, scored)
    return {index: odds[row] for index, row in enumerate(rows) if row in odds}


def _suggestion(replacement: str) -> str:
    return f"`{replacement[:200]}`" if replacement else "remove this line"


def _certain(
    rows: list[int], lines: list[str], row: int, message: str, said: dict[int, tuple[str, str]]
) -> ReviewFinding:
    """A problem the tree shows for certain on `row`, as a finding; the suggestion is the
    first sample's change of the line, if a sample changed it."""
    index = rows.index(row)
    return ReviewFinding(
        line=row + 1,
        quote=lines[index].strip()[:300] or "?",
        severity="warning",
        message=(message[:1].upper() + message[1:])[:300],
        suggestion=_suggestion(said[index][1]) if index in said else "",
        confidence=100,
    )


async def _samples(
    gen: Generation, request: Request, wanted: Sequence[GenerationParams]
) -> list[str]:
    """The first of the `wanted` samples, with the ones after it that differ from it only in
    their seed, asked for in one request (`n`): a model server that takes `n` makes them
    together, in about the time of one on a GPU; other runtimes make the first only, and the
    rest are asked for one by one as the review goes on (and stops early)."""
    first = wanted[0]
    alike = 1
    while alike < len(wanted) and wanted[alike].model_copy(update={"seed": first.seed}) == first:
        alike += 1
    params = first.model_copy(update={"n": alike}) if alike > 1 else first
    result = await gen.generate(request, params, priority=Priority.BACKGROUND)
    return [result.text, *result.others[: alike - 1]]


def _changes(doc: Document, unit: ReviewUnit, lines: list[str], code: str) -> dict[int, str]:
    """Index (in `lines`) -> new text, of each line a sampled fix changes. In a definition a
    line counts only when its code changes: a comment the sample adds to a line is not a vote
    for it (decided on bench/quality's unseen programs, see MIN_CONFIDENCE)."""
    by_text = changed_rows(lines, code.split("\n"))
    if unit.kind == "module":  # its lines are not contiguous in the file
        return by_text
    start, end = line_span(doc, unit.start_byte, unit.end_byte)
    edit = Edit(start, end, reindent(code, indentation_of(doc, start)))
    return {index: by_text.get(index, "") for index in sorted(code_changed_rows(doc, edit))}


def _unit_lines(doc: Document, unit: ReviewUnit) -> tuple[list[int], list[str]]:
    """(row of each line, the lines) a unit's review shows the model."""
    if unit.kind == "module":
        numbered = [line.split("| ", 1) for line in unit.text.split("\n")]
        return [int(n) - 1 for n, _ in numbered], [text for _, text in numbered]
    start, end = line_span(doc, unit.start_byte, unit.end_byte)
    lines = doc.text(start, end).split("\n")
    return [unit.start_row + i for i in range(len(lines))], lines
