"""llama-cpp-python: the default runtime. One Llama per loaded model; KV prefix reuse, from
the live context or from the kept states of recent prompts."""

from __future__ import annotations

import ctypes
import json
import logging
import time
from pathlib import Path
from typing import Any

from chmocoder.engine.models import check_model
from chmocoder.engine.runtimes.base import (
    Collector,
    LoadSettings,
    TokenSink,
    interactive_threads,
    local_model_info,
    no_infill,
    room_for,
    threads_for,
)
from chmocoder.engine.runtimes.predicted import Drafter, first_stop, held_back
from chmocoder.engine.runtimes.prompt_states import PromptState, PromptStates, shared_prefix
from chmocoder.engine.templates import PLAIN, template_for
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    Infill,
    Prompt,
    Timings,
    Usage,
)

log = logging.getLogger(__name__)

PREFILL_CHUNK = {False: 32, True: 128}
"""A long prompt is evaluated this many tokens at a time, asking between chunks whether to
go on. Background work (False) yields to a person's request within a chunk: about 0.7 s for
the default model on one thread, 6% slower than one batch of 512 (64: 3%, 1.4 s; measured);
work a person waits for is only ever cancelled, and 128 costs nothing measurable."""

MIN_GAIN = 8
"""A kept state is loaded when it spares at least this many more prompt tokens than the
live context does (loading one costs about what evaluating a few tokens does)."""


class LlamaCppRuntime:
    def __init__(self, path: Path, settings: LoadSettings) -> None:
        header = check_model(path)
        try:
            from llama_cpp import Llama
        except ImportError:
            raise EngineError(
                "runtime-missing",
                "llama-cpp-python is not installed: pip install 'chmocoder[llama-cpp]'",
            ) from None
        info = local_model_info(path, header, settings, "llama-cpp", chat=True)
        n_ctx = info.context_length
        threads = threads_for(settings)
        self._threads = {False: threads, True: interactive_threads(settings)}
        self._threads_now = threads
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise EngineError(
                "model-load", f"llama.cpp could not load {path.name} ({header.architecture}): {exc}"
            ) from None
        self._chat: tuple[Any, tuple[str, ...]] | None = None
        names = [str(header.metadata.get(k, "")) for k in ("general.name", "general.finetune")] + [
            path.stem
        ]
        self._template = template_for(
            header.architecture, self.llm.metadata.get("tokenizer.chat_template"), names
        )
        self._fim = _fim_tokens(self.llm)
        budget = settings.prompt_cache_mib * 2**20 if settings.reuse_prompts else 0
        self.states = PromptStates(budget) if budget > 0 else None
        self.reuse = settings.reuse_prompts
        self.drafted = 0
        """Tokens of answers taken from a prediction's draft (GenerationParams.prediction)."""
        self.info = info.model_copy(
            update={"chat": self._template is not PLAIN, "infill": self._fim is not None}
        )
        log.info(
            "loaded %s (%s, n_ctx %d, %d threads)", path.name, header.architecture, n_ctx, threads
        )

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render(self, prompt: Prompt, resume: str = "") -> tuple[list[int], list[str]]:
        """The prompt (and any text already generated for it) as tokens, and the template's stops.

        Prompt and resumed text are tokenized as one string: tokenized apart, a
        SentencePiece vocabulary would put a word-start marker at the seam.
        """
        if isinstance(prompt, str):
            return self.llm.tokenize(
                (prompt + resume).encode("utf-8"), add_bos=True, special=False
            ), []
        if isinstance(prompt, Infill):
            return self._infill(prompt, resume), []
        formatter, template_stop = self._formatter()
        rendered = formatter(messages=[m.model_dump() for m in prompt])
        stop = (
            rendered.stop
            if isinstance(rendered.stop, list)
            else [rendered.stop]
            if rendered.stop
            else []
        )
        stop = [s for s in [*stop, *template_stop] if s]
        bos = self._bos_text()
        add_bos = not (bos and rendered.prompt.startswith(bos))
        text = (rendered.prompt + resume).encode("utf-8")
        return self.llm.tokenize(text, add_bos=add_bos, special=True), stop

    def _infill(self, prompt: Infill, resume: str) -> list[int]:
        """The model's fill-in-the-middle layout (prefix, suffix, middle: what code models are
        trained on), with other files first after file separators where the model has them."""
        if self._fim is None:
            raise no_infill(f"{self.info.name} has no fill-in-the-middle tokens")
        pre, suf, mid, sep = self._fim

        def text(value: str) -> list[int]:
            return self.llm.tokenize(value.encode("utf-8"), add_bos=False, special=False)

        tokens = self.llm.tokenize(b"", add_bos=True, special=False)  # [bos] where it wants one
        if sep is not None and prompt.files:
            for path, content in prompt.files:
                tokens += [sep, *text(f"{path}\n{content}\n")]
            tokens += [sep, *text(f"{prompt.path}\n")]
        tokens += [pre, *text(prompt.prefix), suf, *text(prompt.suffix), mid]
        return tokens + (text(resume) if resume else [])

    def _bos_text(self) -> str:
        bos_id = self.llm.token_bos()
        return self.llm._model.token_get_text(bos_id) if bos_id != -1 else ""

    def _formatter(self) -> tuple[Any, tuple[str, ...]]:
        """The model's chat template (its own, else ours for its architecture) and its stops."""
        if self._chat is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self._template
            eos_id = self.llm.token_eos()
            eos = self.llm._model.token_get_text(eos_id) if eos_id != -1 else ""
            formatter = Jinja2ChatFormatter(
                template=template.source,
                eos_token=eos,
                bos_token=self._bos_text(),
                stop_token_ids=[eos_id],
            )
            self._chat = (formatter, template.stop)
        return self._chat

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        on_token: TokenSink,
        resume: str = "",
        *,
        interactive: bool = False,
    ) -> GenerationResult:
        self._use_threads(self._threads[interactive])
        if params.score_from is not None:
            return self._score(prompt, params.score_from, on_token, PREFILL_CHUNK[interactive])
        tokens, template_stops = self.render(prompt, resume)
        room = room_for(self.info, len(tokens))
        kwargs: dict[str, Any] = {
            "max_tokens": min(params.max_tokens, room),
            "temperature": params.temperature,
            "top_p": params.top_p,
            "repeat_penalty": params.repeat_penalty,
            "stop": [*params.stop, *template_stops] or None,
            "stream": True,
        }
        if params.seed is not None:
            kwargs["seed"] = params.seed
        elif not self.reuse:  # reproducible: an unseeded request is sampled the same way too
            kwargs["seed"] = 0
        if params.json_schema is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_json_schema(
                json.dumps(params.json_schema), verbose=False
            )
        collected = Collector(on_token)
        finish = "length"
        # llama-cpp-python streams one chunk per sampled token; the last one carries the reason
        chunks = 0

        live = self._resume(tokens)
        try:
            if not self._prefill(tokens, live, on_token, PREFILL_CHUNK[interactive]):
                collected.cancelled = True  # told to stop while the prompt was evaluated
                return collected.result("stop", len(tokens), 0)
            if params.prediction and params.json_schema is None:
                finish, chunks = self._predicted(tokens, params, kwargs, collected)
                return collected.result(finish, len(tokens), chunks)
            stream: Any = self.llm.create_completion(tokens, **kwargs)
            for chunk in stream:
                choice = chunk["choices"][0]
                if choice.get("finish_reason") is None:
                    chunks += 1
                if not collected.add(choice.get("text") or ""):
                    break
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            stream.close()
        except ValueError as exc:
            raise EngineError("generation", f"llama.cpp: {exc}") from None
        finally:
            self._keep()
        return collected.result(finish, len(tokens), chunks)

    def _predicted(
        self, tokens: list[int], params: GenerationParams, kwargs: dict[str, Any], out: Collector
    ) -> tuple[str, int]:
        """create_completion's answer, drafted from GenerationParams.prediction
        (runtimes/predicted.py): each step evaluates the last token and the tokens drafted
        after it in one batch, and samples position by position with
        create_completion's own sampler (its defaults, the request's seed) while the draft
        agrees. Returns (finish reason, tokens generated)."""
        import random

        import llama_cpp

        llm = self.llm
        held = min(shared_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens), len(tokens) - 1)
        llm._ctx.kv_cache_seq_rm(-1, held, -1)
        llm.n_tokens = held
        if held < len(tokens) - 1:
            llm.eval(tokens[held:-1])
        if "seed" in kwargs:
            llm.set_seed(kwargs["seed"])
        else:  # as create_completion: a new seed from the last
            llm.set_seed(random.Random(llm._seed).randint(0, 2**32))
        sampler = llm._init_sampler(
            top_k=40, top_p=params.top_p, min_p=0.05, typical_p=1.0,
            temp=params.temperature, repeat_penalty=params.repeat_penalty,
        )  # fmt: skip
        assert params.prediction is not None
        drafter = Drafter(llm.tokenize(params.prediction.encode("utf-8"), add_bos=False))
        stops: list[str] = kwargs["stop"] or []
        budget = kwargs["max_tokens"]
        vocab = llm._model.vocab
        answer: list[int] = []
        raw = b""
        shown = 0
        pending = tokens[-1]
        while True:
            if not out.sink(""):  # asked each step, as between a prompt's chunks (a cancel,
                out.cancelled = True  # a deadline), also while text is held back unshown
                return "stop", len(answer)
            room = min(budget - len(answer) - 1, llm.n_ctx() - llm.n_tokens - 1)
            draft = drafter.draft(answer, room)
            batch = [pending, *draft]
            base = llm.n_tokens
            llm._batch.set_batch(batch=batch, n_past=base, logits_all=True)
            llm._ctx.decode(llm._batch)
            llm.input_ids[base : base + len(batch)] = batch
            finish, rest = "", True  # rest: the text held back is shown at the end
            for j in range(len(batch)):
                token = int(sampler.sample(llm._ctx, j))
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    finish = "stop"
                    break
                answer.append(token)
                raw += llm.detokenize([token])
                text = raw.decode("utf-8", errors="ignore")
                cut = first_stop(text, stops)
                if cut >= 0:
                    out.add(text[shown:cut])
                    finish, rest = "stop", False
                    break
                if raw.endswith(text.encode("utf-8")):  # no partial character at the end
                    visible = len(text) - held_back(text, stops)
                    if visible > shown and not out.add(text[shown:visible]):
                        finish, rest = "stop", False
                        break
                    shown = max(shown, visible)
                if len(answer) >= budget:
                    finish = "length"
                    break
                if j >= len(draft) or token != draft[j]:
                    break
                self.drafted += 1
            drafter.taken(len(draft), j)  # j: the drafted tokens the answer kept
            llm.n_tokens = base + j + 1  # the positions whose token the answer kept
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
            llm._requires_eval = True  # the logits are a batch's: create_completion evaluates
            if finish:
                if rest:
                    out.add(raw.decode("utf-8", errors="ignore")[shown:])
                return finish, len(answer)
            pending = token

    def _use_threads(self, threads: int) -> None:
        if threads != self._threads_now:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self.llm._ctx.ctx, threads, threads)
            self._threads_now = threads

    def _prefill(self, tokens: list[int], live: int, go_on: TokenSink, chunk_size: int) -> bool:
        """Evaluate the prompt after the `live` tokens the context holds, but its last token,
        in chunks, asking `go_on("")` before each; False if told to stop (what was evaluated
        stays, and is kept). create_completion then finds all but the last in the context."""
        llm = self.llm
        end = len(tokens) - 1
        if end - live <= chunk_size:
            return True
        if not llm._ctx.kv_cache_seq_rm(-1, live, -1):
            return True  # the context cannot be cut there: one evaluation, as before
        llm.n_tokens = live
        position = live
        while position < end:
            if not go_on(""):
                return False
            chunk = tokens[position : min(position + chunk_size, end)]
            llm.eval(chunk)
            position += len(chunk)
        return True

    def _score(
        self, prompt: Prompt, start: int, go_on: TokenSink, chunk_size: int
    ) -> GenerationResult:
        """GenerationParams.score_from: the surprisal of each token of `prompt` from character
        `start` on. What the context already holds of the prompt is reused; the scored part is
        evaluated `chunk_size` tokens at a time with every position's logits asked for (only
        those: the model was loaded without logits_all), asking `go_on("")` before each."""
        if not isinstance(prompt, str):
            raise EngineError("bad-request", "only a plain-text prompt can be scored")
        import numpy as np

        began = time.perf_counter()
        llm = self.llm
        text = prompt.encode("utf-8")
        tokens = llm.tokenize(text, add_bos=True, special=False)
        if len(tokens) > self.info.context_length:
            raise EngineError(
                "prompt-too-long",
                f"{len(tokens)} tokens to score, over the context window "
                f"({self.info.context_length})",
            )
        spans = _token_spans(llm, tokens, text)
        start_byte = len(prompt[:start].encode("utf-8"))
        # the first token scored: the first that ends after `start` or starts there (a
        # word-start marker spells nothing), never the first token (nothing predicts it)
        first = next(
            (
                i
                for i in range(1, len(spans))
                if spans[i][1] > start_byte or spans[i][0] == start_byte
            ),
            len(tokens),
        )
        live = min(self._resume(tokens), first - 1)
        llm._ctx.kv_cache_seq_rm(-1, live, -1)
        llm.n_tokens = live
        while llm.n_tokens < first - 1:  # the text before: evaluated, no logits kept
            if not go_on(""):
                return GenerationResult(text="", finish_reason="cancelled")
            llm.eval(tokens[llm.n_tokens : min(llm.n_tokens + chunk_size, first - 1)])
        n_vocab = llm.n_vocab()
        scores: list[tuple[int, float]] = []
        chunk_size = min(chunk_size, llm.n_batch)
        position = first - 1  # the token whose logits predict tokens[first]
        while position < len(tokens) - 1:
            if not go_on(""):
                return GenerationResult(text="", finish_reason="cancelled")
            chunk = tokens[position : min(position + chunk_size, len(tokens) - 1)]
            llm._batch.set_batch(batch=chunk, n_past=llm.n_tokens, logits_all=True)
            llm._ctx.decode(llm._batch)
            llm.input_ids[llm.n_tokens : llm.n_tokens + len(chunk)] = chunk
            llm.n_tokens += len(chunk)
            for j in range(len(chunk)):
                logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(j), shape=(n_vocab,))
                top = float(logits.max())
                norm = top + float(np.log(np.exp(logits - top, dtype=np.float64).sum()))
                following = position + j + 1
                offset = len(text[: max(spans[following][0], start_byte)].decode("utf-8", "ignore"))
                scores.append((offset, norm - float(logits[tokens[following]])))
            position += len(chunk)
        total = (time.perf_counter() - began) * 1000
        return GenerationResult(
            text="",
            finish_reason="stop",
            usage=Usage(prompt_tokens=len(tokens)),
            timings=Timings(prompt_ms=total, total_ms=total),
            scores=scores,
        )

    def _resume(self, tokens: list[int]) -> int:
        """Load the kept state that shares the most of `tokens`, if it spares more of them
        than the live context (llama-cpp-python then evaluates only what follows). Returns
        how many of `tokens` the context now holds."""
        if not self.reuse:  # evaluated from the first token, in the same chunks every time
            self.llm.n_tokens = 0
            self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            return 0
        live = shared_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)
        states = self.states
        found = states.best(tokens) if states is not None else None
        if states is None or found is None or found[1] < live + MIN_GAIN:
            return live
        state, shared = found
        started = time.perf_counter()
        try:
            self._load(state)
        except RuntimeError as exc:  # the context is in doubt: evaluate in full
            log.warning("could not load a kept prompt state: %s", exc)
            self.llm.n_tokens = 0
            return 0
        states.hits += 1
        log.debug(
            "prompt state: %d of %d tokens from a kept state (the live context had %d), "
            "loaded in %.0f ms", shared, len(tokens), live, (time.perf_counter() - started) * 1000
        )  # fmt: skip
        return shared

    def _load(self, state: PromptState) -> None:
        import llama_cpp

        data = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_set_data(self.llm._ctx.ctx, data, len(state.data)) != len(
            state.data
        ):
            raise RuntimeError("llama.cpp refused the state")
        n = len(state.tokens)
        self.llm.input_ids[:n] = state.tokens
        self.llm.n_tokens = n
        self.llm._requires_eval = True  # the logits are refreshed by evaluating a token

    def _keep(self) -> None:
        """Keep the live context's state (the prompt just evaluated and its answer)."""
        n = self.llm.n_tokens
        if self.states is None or n == 0:
            return
        import llama_cpp

        ctx = self.llm._ctx.ctx
        try:
            size = int(llama_cpp.llama_state_get_size(ctx))
            if size > self.states.budget_bytes:
                return
            buffer = (ctypes.c_uint8 * size)()
            written = int(llama_cpp.llama_state_get_data(ctx, buffer, size))
        except Exception as exc:  # a cache is never worth an answer
            log.warning("could not keep the prompt state: %s", exc)
            return
        tokens = tuple(self.llm.input_ids[:n].tolist())
        self.states.keep(tokens, ctypes.string_at(buffer, written))

    def close(self) -> None:
        self.llm.close()


def _token_spans(llm: Any, tokens: list[int], text: bytes) -> list[tuple[int, int]]:
    """The byte span of `text` each token spells (a beginning-of-text token: empty). A
    tokenizer that adds a word-start space before the first word spells it one byte longer
    at the front; that byte is taken off."""
    pieces = [llm.detokenize([t], special=False) for t in tokens]
    spelled = b"".join(pieces)
    if not spelled.endswith(text):
        raise EngineError("scoring", "the model's tokens do not spell the prompt back")
    at = len(text) - len(spelled)
    spans = []
    for piece in pieces:
        spans.append((max(at, 0), max(at + len(piece), 0)))
        at += len(piece)
    return spans


def _fim_tokens(llm: Any) -> tuple[int, int, int, int | None] | None:
    """(prefix, suffix, middle, file separator or None) from the model's tokenizer, as
    llama.cpp's vocabulary found them; None if it has no fill-in-the-middle tokens."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    ids = [
        int(getattr(llama_cpp, f"llama_vocab_fim_{name}")(vocab))
        for name in ("pre", "suf", "mid", "sep")
    ]
    pre, suf, mid, sep = ids
    if min(pre, suf, mid) < 0:
        return None
    return pre, suf, mid, (sep if sep >= 0 else None)
