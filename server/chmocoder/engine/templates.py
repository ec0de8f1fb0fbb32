"""Chat templates for GGUF files that carry none (tokenizer.chat_template missing).

A file's own template always wins; these are chosen by architecture. Each is
a Jinja template in the Hugging Face convention (messages, bos_token,
eos_token) plus the stop strings that end a turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Gemma has no system role: system text opens the first user turn.
GEMMA = (
    "{{ bos_token }}{% set ns = namespace(system='') %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.system = ns.system + m['content'] + '\n\n' %}"
    "{% else %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{% if m['role'] == 'user' %}{{ ns.system }}{% set ns.system = '' %}{% endif %}"
    "{{ m['content'] }}<end_of_turn>\n{% endif %}"
    "{% endfor %}<start_of_turn>model\n"
)

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "<|im_start|>assistant\n"
)

LLAMA2 = (
    "{{ bos_token }}{% set ns = namespace(system='') %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.system = '<<SYS>>\n' + m['content'] + '\n<</SYS>>\n\n' %}"
    "{% elif m['role'] == 'user' %}[INST] {{ ns.system }}{{ m['content'] }} [/INST]{% set ns.system = '' %}"
    "{% else %} {{ m['content'] }} {{ eos_token }}{% endif %}"
    "{% endfor %}"
)


@dataclass(frozen=True)
class Template:
    source: str
    stop: tuple[str, ...]


BY_ARCHITECTURE: dict[str, Template] = {
    "gemma": Template(GEMMA, ("<end_of_turn>",)),
    "gemma2": Template(GEMMA, ("<end_of_turn>",)),
    "gemma3": Template(GEMMA, ("<end_of_turn>",)),
    "qwen2": Template(CHATML, ("<|im_end|>",)),
    "qwen3": Template(CHATML, ("<|im_end|>",)),
    "llama": Template(LLAMA2, ()),
}
FALLBACK = Template(LLAMA2, ())


PLAIN = Template("{% for m in messages %}{{ m['content'] }}\n\n{% endfor %}", ())
"""For base (not chat-tuned) models: the messages as one document to continue."""

_CHAT_TUNED = re.compile(
    r"(?:^|[-_ .])(it|instruct|chat|sft|dpo|coder-instruct)(?:$|[-_ .])", re.IGNORECASE
)


def is_chat_tuned(names: list[str]) -> bool:
    """A GGUF without a template is chat-tuned if its name says so (gemma-3-270m-it)."""
    return any(_CHAT_TUNED.search(n) for n in names if n)


def template_for(architecture: str, embedded: str | None, names: list[str]) -> Template:
    """The file's own template; else ours for its architecture if it is chat-tuned; else plain."""
    if embedded:
        return Template(embedded, ())
    if is_chat_tuned(names):
        return BY_ARCHITECTURE.get(architecture, FALLBACK)
    return PLAIN
