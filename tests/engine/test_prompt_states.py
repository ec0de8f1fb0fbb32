"""Kept prompt states: a prompt that shares its start with one evaluated before (not the last
one) evaluates only the rest, and writes what it would have written from scratch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chmocoder.engine.client import DaemonSpec
from chmocoder.engine.runtimes import LoadSettings, load_runtime
from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime
from chmocoder.engine.runtimes.prompt_states import PromptStates, shared_prefix
from chmocoder.engine.types import GenerationParams

MATERIAL = "def area(r):\n    return 3.14 * r * r\n" * 40
OTHER = "class Stack:\n    def push(self, x):\n        self.items.append(x)\n" * 30


def test_a_prompt_resumes_from_a_kept_state_and_answers_the_same(tiny_model: Path) -> None:
    cached = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=4096, n_threads=1))
    plain = load_runtime(
        "llama-cpp", tiny_model, LoadSettings(n_ctx=4096, n_threads=1, prompt_cache_mib=0)
    )
    assert isinstance(cached, LlamaCppRuntime) and cached.states is not None
    params = GenerationParams(max_tokens=12, temperature=0.0)
    for prompt in (MATERIAL + "Explain area.", OTHER + "Review it."):
        cached.generate(prompt, params, lambda t: True)
    assert len(cached.states) == 2 and cached.states.hits == 0
    again = MATERIAL + "What does area return?"  # the live context is OTHER's
    resumed = cached.generate(again, params, lambda t: True)
    assert cached.states.hits == 1
    assert resumed.text == plain.generate(again, params, lambda t: True).text


def test_states_are_kept_within_their_budget_newest_first() -> None:
    states = PromptStates(budget_bytes=100)
    states.keep((1, 2, 3), b"a" * 40)
    states.keep((7, 8, 9), b"b" * 40)
    states.keep((4, 5, 6), b"c" * 40)  # over budget: the oldest goes
    assert states.size == 80 and len(states) == 2
    assert states.best([1, 2, 3, 4]) is None
    found = states.best([7, 8, 1])
    assert found is not None and found[1] == 2
    states.keep((7, 8, 9, 10, 11), b"d" * 10)  # covers (7, 8, 9): that one goes
    assert len(states) == 2 and states.size == 50
    states.keep((1,), b"x" * 101)  # larger than the whole budget: not kept
    assert len(states) == 2


def test_a_long_prompt_stops_between_chunks_when_told_and_goes_on_later(tiny_model: Path) -> None:
    """Asked between chunks of the prompt (`on_token("")`), a runtime told to stop stops
    there; asked again, it goes on from what it evaluated and writes what it would have."""
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=4096, n_threads=1))
    fresh = load_runtime(
        "llama-cpp", tiny_model, LoadSettings(n_ctx=4096, n_threads=1, prompt_cache_mib=0)
    )
    assert isinstance(runtime, LlamaCppRuntime)
    params = GenerationParams(max_tokens=12, temperature=0.0)
    prompt = MATERIAL + OTHER + "Explain."
    asked: list[str] = []

    def stop_at_the_third_question(text: str) -> bool:
        asked.append(text)
        return len(asked) < 3

    stopped = runtime.generate(prompt, params, stop_at_the_third_question)
    assert stopped.finish_reason == "cancelled" and stopped.text == "" and asked == [""] * 3
    assert 0 < runtime.llm.n_tokens < stopped.usage.prompt_tokens  # two chunks evaluated
    went_on = runtime.generate(prompt, params, lambda t: True)
    assert went_on.text == fresh.generate(prompt, params, lambda t: True).text


def test_work_a_person_waits_for_gets_every_core_and_background_work_one_less(
    tiny_model: Path,
) -> None:
    from chmocoder.engine.runtimes import physical_cores

    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=0))
    assert isinstance(runtime, LlamaCppRuntime)
    params = GenerationParams(max_tokens=2, temperature=0.0)
    runtime.generate("def f():", params, lambda t: True, interactive=True)
    assert runtime._threads_now == physical_cores()
    runtime.generate("def f():", params, lambda t: True)
    assert runtime._threads_now == max(1, physical_cores() - 1)
    fixed = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=1))
    assert isinstance(fixed, LlamaCppRuntime)
    fixed.generate("def f():", params, lambda t: True, interactive=True)
    assert fixed._threads_now == 1  # a set nThreads is kept for both


def test_without_reuse_every_prompt_is_evaluated_from_its_first_token(tiny_model: Path) -> None:
    """reusePrompts false (reproducible answers): no kept states, and the live context's
    shared start is not used either; the daemon for it is another one."""
    fresh = load_runtime(
        "llama-cpp", tiny_model, LoadSettings(n_ctx=4096, n_threads=1, reuse_prompts=False)
    )
    assert isinstance(fresh, LlamaCppRuntime) and fresh.states is None
    sampled = GenerationParams(max_tokens=12, temperature=0.8, seed=5)
    first = fresh.generate(MATERIAL + "Explain area.", sampled, lambda t: True)
    tokens, _ = fresh.render(MATERIAL + "What does area return?")
    held = fresh.llm.input_ids[: fresh.llm.n_tokens].tolist()
    assert shared_prefix(held, tokens) > 100  # the live context holds the shared start...
    assert fresh._resume(tokens) == 0 and fresh.llm.n_tokens == 0  # ...and it is not used
    fresh.generate(OTHER + "Review it.", sampled, lambda t: True)
    assert fresh.generate(MATERIAL + "Explain area.", sampled, lambda t: True).text == first.text
    unseeded = GenerationParams(max_tokens=12, temperature=0.8)  # explain's, ask's sampling
    texts = {fresh.generate(OTHER + "Explain.", unseeded, lambda t: True).text for _ in range(3)}
    assert len(texts) == 1

    spec = DaemonSpec("llama-cpp", tiny_model, "0" * 16, 4096, 1, 5.0)
    other = dataclasses.replace(spec, reuse_prompts=False)
    assert "--no-reuse" in other.command() and "--no-reuse" not in spec.command()
    assert other.socket_path() != spec.socket_path()
