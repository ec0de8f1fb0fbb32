"""lsp/work.py: work per document, and warming ahead that edits do not stop."""

from __future__ import annotations

import asyncio

import pytest

from chmocoder.engine.errors import EngineError, ErrorKind, kind_of
from chmocoder.lsp.work import DocumentWork, Stale

URI = "file:///a.py"


async def _forever(started: list[str], name: str) -> None:
    started.append(name)
    await asyncio.Event().wait()


async def test_warming_goes_on_through_edits_and_stops_when_asked() -> None:
    work = DocumentWork(asyncio.get_running_loop)
    started: list[str] = []
    work.warm(URI, _forever(started, "next"), kind="completion-next")
    job = asyncio.ensure_future(work.run(URI, _forever(started, "fill"), kind="completion"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    work.cancel(URI)  # an edit: the fill is stale, the warming is not
    with pytest.raises(Stale) as stale:
        await job
    assert stale.value.kind is ErrorKind.STALE
    warming = work._warming[(URI, "completion-next")][0]
    assert not warming.done()
    work.stop_warming(URI, "completion-next")
    await asyncio.sleep(0)
    assert warming.cancelled()
    assert (URI, "completion-next") not in work._warming
    work.stop_warming(URI, "completion-next")  # nothing left to stop: no error
    assert started == ["next", "fill"]


async def test_closing_a_document_stops_its_warming() -> None:
    work = DocumentWork(asyncio.get_running_loop)
    started: list[str] = []
    work.warm(URI, _forever(started, "hover"), kind="hover")
    await asyncio.sleep(0)
    task = work._warming[(URI, "hover")][0]
    work.close(URI)
    await asyncio.sleep(0)
    assert task.cancelled() and not work._warming


async def test_warming_the_same_target_again_lets_the_first_go_on() -> None:
    work = DocumentWork(asyncio.get_running_loop)
    started: list[str] = []
    work.warm(URI, _forever(started, "area"), kind="hover", target="def area")
    await asyncio.sleep(0)
    first = work._warming[(URI, "hover")][0]
    work.warm(URI, _forever(started, "area again"), kind="hover", target="def area")
    await asyncio.sleep(0)
    assert work._warming[(URI, "hover")][0] is first and not first.done()
    work.warm(URI, _forever(started, "clamp"), kind="hover", target="def clamp")
    await asyncio.sleep(0)
    assert first.cancelled() and started == ["area", "clamp"]
    work.close(URI)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("model-missing", ErrorKind.SETUP),
        ("daemon-start", ErrorKind.SETUP),
        ("endpoint-unreachable", ErrorKind.SETUP),
        ("deadline", ErrorKind.DEADLINE),
        ("busy", ErrorKind.BUSY),
        ("invalid-output", ErrorKind.FAILED),
        ("infill-unsupported", ErrorKind.FAILED),
    ],
)
def test_an_engine_error_has_its_codes_kind(code: str, kind: ErrorKind) -> None:
    error = EngineError(code, "what to do")
    assert error.kind is kind_of(code) is kind and error.code == code
