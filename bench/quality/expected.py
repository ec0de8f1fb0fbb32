"""Offline, *dev* split only: how often the line the model expects restores a mutant's bug line,
and how a fix's candidates rank by how surprising the model finds each version of the
definition; what chose the fix's expected line (assist/odds.py expected_line, assist/edit.py
_likeliest) before it was decided on *test* with mutants.py.

Raw llama-cpp-python with every position's logits (the numbers the pipeline's odds give, see
tests/engine/test_runtimes.py), the definition read after the 15 lines before it
(odds.CONTEXT_LINES), the cursor on the bug's line:

- *restored*: the bug line with its most surprising token and the rest of the line as the
  model writes them (greedy, to the line's end: "greedy"), or that token alone replaced by
  the model's first choice ("token"), equals the line before the mutation (spacing aside);
- *ranked*: the fix the pipeline offered in a recorded run (`--offered`, a mutants.py result
  with its diffs, such as mutants-dev-default-line-before.json) against the expected lines,
  the one kept by each rule (the least sum of -ln p over the definition, the least mean, the
  least most surprising token), counted as fixed when it is the one that fixed the case (the
  offered fix by its recorded outcome, an expected line when it restores the line).

    .venv/bin/python bench/quality/expected.py --offered bench/results/mutants-dev-default-line-before.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "server"))

from mutants import Program, load_cases, load_programs  # noqa: E402
from run import RESULTS  # noqa: E402

from chmocoder.analysis.context import Focus  # noqa: E402
from chmocoder.assist.edit import edit_target  # noqa: E402
from chmocoder.assist.odds import CONTEXT_LINES, EXPECTED_TOKENS  # noqa: E402
from chmocoder.cli_files import offset_of  # noqa: E402
from chmocoder.engine.models import resolve_model  # noqa: E402
from chmocoder.paths import default_cache_dir  # noqa: E402

Version = tuple[float, float, int]
"""(sum, most, count) of -ln p over the definition's tokens."""


class Scorer:
    def __init__(self, model: str) -> None:
        from llama_cpp import Llama

        path = resolve_model(model, default_cache_dir())
        self.llm = Llama(str(path), n_ctx=2048, n_threads=2, logits_all=True, verbose=False)

    def _eval(self, text: bytes) -> tuple[list[int], list[int]]:
        """Tokens of `text` evaluated, and each token's byte offset."""
        llm = self.llm
        tokens = llm.tokenize(text, add_bos=True)
        llm.reset()
        llm.eval(tokens)
        offsets, position = [], 0
        for k, token in enumerate(tokens):
            offsets.append(position)
            if not (k == 0 and token == llm.token_bos()):
                position += len(llm.detokenize([token]))
        return tokens, offsets

    def _nats(self, i: int, token: int) -> float:
        import numpy as np

        row = self.llm.scores[i - 1]
        top = float(row.max())
        return top + float(np.log(np.exp(row - top).sum())) - float(row[token])

    def window(self, program: Program, code: str, def_line: int) -> tuple[bytes, int, int]:
        """(the CONTEXT_LINES before the definition and its lines, where it starts, the
        row the text starts at)."""
        doc = program.document(code)
        start = offset_of(doc.source, def_line, None)
        a, b = edit_target(Focus.at(doc, start), doc.row_span(def_line - 1)[1])
        first = max(0, doc.source.count(b"\n", 0, a) - CONTEXT_LINES)
        begin = doc.row_span(first)[0]
        return doc.source[begin:b], a - begin, first

    def version(self, text: bytes, head: int) -> Version:
        tokens, offsets = self._eval(text)
        nats = [self._nats(i, tokens[i]) for i in range(1, len(tokens)) if offsets[i] >= head]
        return sum(nats), max(nats), len(nats)

    def expected(self, text: bytes, line_start: int, line_end: int) -> tuple[str, str] | None:
        """(greedy, token): the line as the model expects it from its most surprising token."""
        import numpy as np

        llm = self.llm
        tokens, offsets = self._eval(text)
        on_line = [
            (self._nats(i, tokens[i]), i)
            for i in range(1, len(tokens))
            if line_start <= offsets[i] < line_end and llm.detokenize([tokens[i]]).strip()
        ]
        if not on_line:
            return None
        _, i = max(on_line)
        first = int(np.argmax(llm.scores[i - 1]))
        at = offsets[i]
        after = at + len(llm.detokenize([tokens[i]]))
        token = text[line_start:at] + llm.detokenize([first]) + text[after:line_end]
        llm.reset()
        llm.eval(tokens[:i])
        written, ended = b"", False
        for _ in range(EXPECTED_TOKENS):
            nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            ended = nxt == llm.token_eos() or b"\n" in llm.detokenize([nxt])
            written += b"" if nxt == llm.token_eos() else llm.detokenize([nxt])
            if ended:
                break
            llm.eval([nxt])
        # as the pipeline: no line when the model does not end it within EXPECTED_TOKENS
        greedy = (
            text[line_start:at] + written.split(b"\n")[0] if ended else text[line_start:line_end]
        )
        return greedy.decode("utf-8", "replace"), token.decode("utf-8", "replace")


def _same(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def _patched(code: str, diff: str) -> str | None:
    """`code` with a recorded fix's unified diff applied (patch(1)), None if it does not apply."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f"
        path.write_text(code)
        lines = [
            line.split(" ")[0] + " f" if line.startswith(("--- ", "+++ ")) else line
            for line in diff.split("\n")
        ]
        done = subprocess.run(
            ["patch", "-s", str(path)], input="\n".join(lines) + "\n", text=True,
            capture_output=True, cwd=folder,
        )  # fmt: skip
        return path.read_text() if done.returncode == 0 else None


RULES: dict[str, Callable[[Version], Any]] = {
    "least sum": lambda v: v[0],
    "least mean": lambda v: v[0] / v[2],
    "least most surprising token": lambda v: v[1],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--offered", type=Path, help="a mutants.py dev result with its diffs")
    parser.add_argument("--out", type=Path, default=RESULTS / "expected-dev.json")
    args = parser.parse_args()
    scorer = Scorer(args.model)
    programs = {p.key: p for p in load_programs()}
    offered: dict[str, dict[str, Any]] = {}
    if args.offered:
        offered = {f["case"]: f for f in json.loads(args.offered.read_text())["fixes"]}
    rows: list[dict[str, Any]] = []
    for case in load_cases("dev"):
        program = programs[f"{case['language']}/{case['program']}"]
        before, buggy = program.code.split("\n"), case["buggy"].split("\n")
        if len(before) != len(buggy):
            continue  # the mutation removed a line: no line to restore
        bug = case["bug_line"] - 1
        text, _head, first_row = scorer.window(program, case["buggy"], case["def_line"])
        line = buggy[bug]
        line_start = sum(len(x) + 1 for x in text.split(b"\n")[: bug - first_row])
        line_end = line_start + len(line.encode())
        found = scorer.expected(text, line_start, line_end)
        if found is None:
            continue
        greedy, token = found
        row: dict[str, Any] = {
            "case": case["id"],
            "greedy": _same(greedy, before[bug]),
            "token": _same(token, before[bug]),
        }
        fix = offered.get(case["id"])
        if fix is not None:
            versions: dict[str, tuple[Version, bool]] = {}
            fixed_code = _patched(case["buggy"], fix["diff"]) if fix["diff"] else None
            if fixed_code is not None:
                window, at, _ = scorer.window(program, fixed_code, case["def_line"])
                versions["offered"] = scorer.version(window, at), fix["outcome"] == "fixed"
            for name, new in (("greedy", greedy), ("token", token)):
                if new != line:
                    code = "\n".join([*buggy[:bug], new, *buggy[bug + 1 :]])
                    window, at, _ = scorer.window(program, code, case["def_line"])
                    versions[name] = scorer.version(window, at), row[name]
            row["versions"] = {k: [*v, ok] for k, (v, ok) in versions.items()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {
        "cases": len(rows),
        "restored": {k: sum(r[k] for r in rows) for k in ("greedy", "token")},
        "restored by either": sum(r["greedy"] or r["token"] for r in rows),
    }
    ranked = [r for r in rows if "versions" in r]
    if ranked:
        summary["ranked cases"] = len(ranked)
        summary["offered fixed"] = sum(
            r["versions"].get("offered", [0, 0, 0, False])[3] for r in ranked
        )
        for kept in (("offered", "greedy"), ("offered", "greedy", "token")):
            for rule, key in RULES.items():
                won = 0
                for r in ranked:
                    choice = {k: v for k, v in r["versions"].items() if k in kept}
                    if choice:  # the offered fix first on a tie
                        best = min(
                            choice, key=lambda k: (key(tuple(choice[k][:3])), k != "offered")
                        )
                        won += bool(choice[best][3])
                summary[f"{rule}, of {' + '.join(kept)}"] = won
    print(json.dumps(summary, indent=1))
    args.out.write_text(json.dumps({"summary": summary, "cases": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
