"""chmocoder doctor --endpoint URL: what a model server offers, and which of ChMOCoder's
features will use what (runtime openai)."""

from __future__ import annotations

import os
import sys
from typing import Any


def _answers(status: int) -> str:
    return "yes" if status == 200 else ("no" if status else "no answer")


def doctor_endpoint(endpoint: str, model: str, api_key_env: str, fim: str) -> int:
    """Probe the server with small requests (a token or two each) and print what it offers."""
    from chmocoder.engine.runtimes import openai_fim
    from chmocoder.engine.runtimes.base import OpenAISettings
    from chmocoder.engine.runtimes.openai import OpenAIRuntime
    from chmocoder.engine.types import EngineError

    settings = OpenAISettings(
        endpoint=endpoint, n_ctx=4096, connect_timeout_s=5, first_byte_timeout_s=30,
        request_timeout_s=60, api_key=os.environ.get(api_key_env) or None,
        model_name="" if model == "default" else model, fim=fim,
    )  # fmt: skip
    try:
        runtime = OpenAIRuntime(settings)
    except EngineError as exc:
        print(f"chmocoder: {exc.message}", file=sys.stderr)
        return 1
    probe = runtime.probe
    _, data = probe("/models")
    names = [
        str(m.get("id")) for m in (data or {}).get("data", []) if isinstance(m, dict)
    ] if isinstance(data, dict) else []  # fmt: skip
    tiny: dict[str, Any] = {"model": runtime.model, "max_tokens": 2, "temperature": 0.0}
    chat, _ = probe("/chat/completions", {**tiny, "messages": [{"role": "user", "content": "hi"}]})
    completions, _ = probe("/completions", {**tiny, "prompt": "def"})
    n_status, n_data = probe("/completions", {**tiny, "prompt": "def", "n": 2})
    several = n_status == 200 and isinstance(n_data, dict) and len(n_data.get("choices") or []) == 2
    seeded, _ = probe("/completions", {**tiny, "prompt": "def", "seed": 7})
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "probe", "schema": schema}}
    json_schema, _ = probe("/chat/completions", {
        **tiny, "messages": [{"role": "user", "content": "a=1 as JSON"}], "response_format": fmt,
    })  # fmt: skip
    grammar, _ = probe("/completions", {**tiny, "prompt": "x", "grammar": 'root ::= "a"'})
    tokenize = openai_fim.token_count(probe, "a", runtime.model) is not None
    infill, _ = probe("/infill", {"input_prefix": "", "input_suffix": "", "n_predict": 0})

    print(f"endpoint          {endpoint} ({runtime.model})")
    print(f"models            {', '.join(names) if names else '(not listed)'}")
    print(f"chat completions  {_answers(chat)}")
    print(f"completions       {_answers(completions)}")
    print(f"infill (/infill)  {_answers(infill)}")
    print(f"n (several)       {'yes' if several else 'no'}")
    print(f"seed              {_answers(seeded)}")
    print(f"JSON schema       {_answers(json_schema)}")
    print(f"grammar           {_answers(grammar)}")
    print(f"tokenize          {'yes' if tokenize else 'no'}")
    print("ChMOCoder will use:")
    prose = "chat completions" if chat == 200 else ("completions" if completions == 200 else "")
    tasks = "explain, fix, review, ask, explain-error"
    print(f"  {tasks:<42} {prose or 'NOTHING: the server answers neither'}")
    found = runtime.fim_way()
    way = found.describe() if found else f"nothing (endpointFim {fim})"
    print(f"  {'inline completion':<42} {way}")
    print(f"  {'review samples':<42} one request per sample (n is not used yet)")
    print(f"  {'JSON answers':<42} checked by ChMOCoder (the server's schema support is not used)")
    print(
        "What leaves this machine: the code context of each request (never whole files "
        "unless that is the context), and nothing else."
    )
    return 0 if prose else 1
