"""The composition root: Settings -> the engine's config and the assistant's settings. Both
front ends (the language server and the command line) build their parts here, so a setting
reaches the engine the same way from either."""

from __future__ import annotations

from chmocoder.assist.assistant import AssistSettings
from chmocoder.config import Settings
from chmocoder.engine.engine import EngineConfig


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
    )


def assist_settings(s: Settings) -> AssistSettings:
    return AssistSettings(
        audience=s.audience,
        max_tokens=s.max_tokens,
        temperature=s.temperature,
        context_tokens=s.context_tokens,
    )
