"""The composition root: Settings -> the engine, the assistant, its history and statistics.
Both front ends (the language server and the command line) build their parts here, so a
setting reaches the engine the same way from either; the language server, whose settings
change, brings them up to date here too (`refresh`)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chmocoder.analysis.context import DefinitionLookup
from chmocoder.assist.assistant import Assistant, AssistSettings
from chmocoder.assist.completion import Completer, CompleterSettings
from chmocoder.assist.history import History
from chmocoder.config import Settings
from chmocoder.engine.catalogue import Progress
from chmocoder.engine.engine import CallRecord, Engine, EngineConfig
from chmocoder.engine.stats import StatsStore

log = logging.getLogger(__name__)


def engine_config(s: Settings) -> EngineConfig:
    """What the engine needs; two equal configs mean the same engine can go on serving."""
    return EngineConfig(
        model=s.model,
        runtime=s.runtime,
        endpoint=s.endpoint,
        api_key_env=s.api_key_env,
        n_ctx=s.n_ctx,
        n_threads=s.n_threads,
        cache_dir=s.cache_dir,
        idle_s=s.daemon_idle_s,
        connect_timeout_s=s.connect_timeout_s,
        first_byte_timeout_s=s.first_byte_timeout_s,
        request_timeout_s=s.request_timeout_s,
        prompt_cache_mib=s.prompt_cache_mib,
        reuse_prompts=s.reuse_prompts,
        endpoint_fim=s.endpoint_fim,
        endpoint_max_in_flight=s.endpoint_max_in_flight,
    )


def completion_engine_config(s: Settings) -> EngineConfig | None:
    """The engine that writes ghost text, when completion.model names another model than
    `model` (None: the main engine writes it)."""
    if not s.completion.model or s.completion.model == s.model:
        return None
    return dataclasses.replace(engine_config(s), model=s.completion.model)


_T = TypeVar("_T")


def derived(cls: type[_T], source: object) -> _T:
    """A dataclass of settings taken from `source` (Settings or one of its sections) field by
    name: a field the source lacks is an error here, at the first build, not a default
    silently kept. One rule instead of a copy of each field per section."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: getattr(source, name) for name in names})


def assist_settings(s: Settings) -> AssistSettings:
    return derived(AssistSettings, s)


def completer_settings(s: Settings) -> CompleterSettings:
    return derived(CompleterSettings, s.completion)


@dataclass
class Parts:
    """What one front end holds: the assistant, the completer, and what they were built from."""

    assistant: Assistant
    completer: Completer
    engine: Engine
    stats: StatsStore
    completion_engine: Engine | None = None
    """The completer's own engine (completion.model), else None: it uses `engine`."""
    built_for: tuple[EngineConfig, EngineConfig | None] | None = None
    """The engines' configs: parts whose configs still hold are refreshed, not rebuilt."""

    def engines(self) -> list[Engine]:
        """Every engine these parts hold (to close, or to report progress from)."""
        return [self.engine] + ([self.completion_engine] if self.completion_engine else [])


def build(
    s: Settings,
    *,
    workspace: DefinitionLookup | None = None,
    on_record: Callable[[CallRecord], None] | None = None,
    on_progress: Callable[[], Progress] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Parts:
    """The assistant and the completer for `s`: their engine (model calls recorded into the
    statistics, after `on_record`; a model's assembly reported to a new `on_progress()`
    per engine; what a request waits for to `on_wait`), its answer history, and the
    statistics store."""
    stats = StatsStore(s.cache_dir / "stats.sqlite3")

    def record(call: CallRecord) -> None:
        if on_record is not None:
            on_record(call)
        try:
            stats.record(call)
        except Exception as exc:  # statistics must never break a feature
            log.warning("could not record statistics: %s", exc)

    engine = Engine(engine_config(s), on_record=record)
    engine.log_prompts = s.log_prompts
    own = completion_engine_config(s)
    completion_engine = None if own is None else Engine(own, on_record=record)
    if completion_engine is not None:
        completion_engine.log_prompts = s.log_prompts
    assistant = Assistant(
        engine,
        assist_settings(s),
        history=History(s.cache_dir / "history.sqlite3", s.history.ttl_hours),
        workspace=workspace,
        on_outcome=stats.record_outcome,
    )
    completer = Completer(completion_engine or engine, completer_settings(s), workspace)
    parts = Parts(assistant, completer, engine, stats, completion_engine, _engine_configs(s))
    for each in parts.engines():
        each.on_wait = on_wait
        if on_progress is not None:
            each.on_progress = on_progress()
    return parts


def _engine_configs(s: Settings) -> tuple[EngineConfig, EngineConfig | None]:
    return engine_config(s), completion_engine_config(s)


def refresh(
    parts: Parts | None,
    s: Settings,
    *,
    workspace: DefinitionLookup | None = None,
    on_record: Callable[[CallRecord], None] | None = None,
    on_progress: Callable[[], Progress] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[Parts, list[Engine]]:
    """The parts for new settings (or a new workspace): `parts` brought up to date where
    their engines' configs still hold, else built anew (`build`). Also returns the engines
    no longer used, for the caller to close (closing is asynchronous)."""
    retired: list[Engine] = []
    if parts is None or parts.built_for != _engine_configs(s):
        retired = parts.engines() if parts is not None else []
        parts = build(s, workspace=workspace, on_record=on_record, on_progress=on_progress,
                      on_wait=on_wait)  # fmt: skip
    parts.assistant.settings = assist_settings(s)
    parts.completer.settings = completer_settings(s)
    for engine in parts.engines():
        engine.log_prompts = s.log_prompts
    if workspace is not None:
        parts.assistant.workspace = parts.completer.workspace = workspace
    return parts, retired
