"""Settings: camelCase on the wire, defaults for everything, bad values named and replaced."""

from __future__ import annotations

from chmocoder.compose import assist_settings
from chmocoder.config import Settings


def test_defaults_round_trip() -> None:
    settings, problems = Settings.from_wire({})
    assert problems == []
    wire = settings.to_wire()
    assert wire["maxTokens"] == 384 and wire["hover"]["timeoutMs"] == 8000
    assert Settings.from_wire(wire)[0] == settings


def test_camel_case_values_are_read() -> None:
    settings, problems = Settings.from_wire(
        {
            "model": "/m/x.gguf",
            "runtime": "openai",
            "nThreads": 4,
            "review": {"mode": "onChange", "debounceMs": 10},
        }
    )
    assert problems == []
    assert (settings.model, settings.runtime, settings.n_threads) == ("/m/x.gguf", "openai", 4)
    assert (settings.review.mode, settings.review.debounce_ms) == ("onChange", 10)


def test_bad_values_fall_back_and_are_named() -> None:
    settings, problems = Settings.from_wire(
        {
            "maxTokens": -1,
            "audience": "guru",
            "hover": {"timeoutMs": "soon", "enabled": False},
            "temperature": 0.7,
        }
    )
    assert settings.max_tokens == 384 and settings.audience == "intermediate"
    assert settings.hover.timeout_ms == 8000 and settings.hover.enabled is False
    assert settings.temperature == 0.7
    joined = "\n".join(problems)
    assert "setting maxTokens" in joined and "default 384" in joined
    assert "setting audience" in joined and "'intermediate'" in joined
    assert "setting hover.timeoutMs" in joined and "default 8000" in joined
    assert len(problems) == 3


def test_not_an_object() -> None:
    settings, problems = Settings.from_wire(["x"])
    assert settings == Settings() and "must be an object" in problems[0]


def test_environment_variables() -> None:
    settings, problems = Settings.from_env(
        {
            "CHMOCODER_MAX_TOKENS": "99",
            "CHMOCODER_HOVER__TIMEOUT_MS": "500",
            "CHMOCODER_API_KEY": "secret",
            "CHMOCODER_SEED": "3",
            "HOME": "/",
        }
    )
    assert problems == []
    assert settings.max_tokens == 99 and settings.hover.timeout_ms == 500
    assert settings.seed == 3 and assist_settings(settings).seed == 3
