"""compose.refresh: new settings bring the parts up to date, and new engines only when an
engine's config changed (nothing is started: engines start at their first request)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder import compose
from chmocoder.config import Settings


def test_new_settings_refresh_the_parts_and_keep_the_engine(tmp_path: Path) -> None:
    first = Settings(cache_dir=tmp_path, audience="beginner")
    parts, retired = compose.refresh(None, first)
    assert retired == [] and parts.completion_engine is None
    assert parts.completer.engine is parts.engine

    second = first.model_copy(update={"audience": "expert", "log_prompts": True})
    again, retired = compose.refresh(parts, second)
    assert again is parts and retired == []
    assert parts.assistant.settings.audience == "expert" and parts.engine.log_prompts


def test_another_model_retires_the_engines(tmp_path: Path) -> None:
    first = Settings(cache_dir=tmp_path)
    parts, _ = compose.refresh(None, first)
    with_completion_model = first.model_copy(
        update={"completion": first.completion.model_copy(update={"model": "small.gguf"})}
    )
    second, retired = compose.refresh(parts, with_completion_model)
    assert second is not parts and retired == [parts.engine]
    assert second.completion_engine is not None
    assert second.completer.engine is second.completion_engine
    assert second.completion_engine.config.model == "small.gguf"
    assert second.engine.config.model == first.model

    progress_made: list[object] = []

    def progress() -> object:
        progress_made.append(object())
        return lambda done, total: None

    third, retired = compose.refresh(second, first, on_progress=progress)  # type: ignore[arg-type]
    assert retired == second.engines() and third.completion_engine is None
    assert len(progress_made) == 1 and third.engine.on_progress is not None


def test_the_tasks_settings_are_the_users() -> None:
    """Every field of the assistant's and the completer's settings is the user's setting of
    that name (not a copy that forgets one): each is changed from its default and read back."""
    import dataclasses

    from chmocoder.assist.completion import CompleterSettings
    from chmocoder.assist.generation import AssistSettings

    s = Settings.model_validate(
        {
            "audience": "expert",
            "maxTokens": 99,
            "temperature": 0.7,
            "seed": 5,
            "contextTokens": 777,
            "allowRisky": True,
            "buildCheck": False,
            "completion": {"budgetMs": 321, "maxTokens": 17, "prefixTokens": 55, "suffixTokens": 5},
        }
    )
    assist, completer = compose.assist_settings(s), compose.completer_settings(s)
    assert assist == AssistSettings("expert", 99, 0.7, 5, 777, True, False)
    assert completer == CompleterSettings(321, 17, 55, 5)
    assert all(getattr(assist, f.name) != getattr(AssistSettings(), f.name)
               for f in dataclasses.fields(assist))  # fmt: skip

    @dataclasses.dataclass
    class Unknown:
        no_such_setting: int

    with pytest.raises(AttributeError):
        compose.derived(Unknown, s)
