"""Writes a tiny Llama GGUF with random weights: a real file for the real runtimes, in milliseconds.

Its output is noise, which is what plumbing tests want. 2 blocks, 64 dimensions,
4 heads, a SentencePiece-style vocabulary of the 256 byte tokens plus a few words.

One shaping of the randomness: every token embedding has a large constant first
component, which survives the final RMS norm, and the output rows of the
end-of-sequence token, control bytes and bytes >= 0x80 point against it. So
generations never end by themselves (tests stop them with max_tokens, stop
strings or cancellation) and the text is valid UTF-8, as a real model's is.
Without it, llama-cpp-python re-decodes invalid byte runs on every token and
streams at a few tokens per second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = [
    "▁the",
    "▁def",
    "▁return",
    "▁function",
    "▁code",
    "▁explain",
    "▁value",
    "▁is",
    "(",
    ")",
    ":",
    "▁a",
]


LINE = "▁done\n\n"
"""The model with fill-in-the-middle tokens writes this token, a whole line, again and again:
inline completion shows only whole lines, so its tests need lines that end."""

FIM_TOKENS = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"]
"""Qwen2.5-Coder's names, which llama.cpp's vocabulary recognises as fill-in-the-middle tokens."""


def write_tiny_llama(
    path: Path, *, seed: int = 0, context_length: int = 512, dims: int = 64, fim: bool = False
) -> Path:
    """`fim`: the vocabulary also has fill-in-the-middle tokens (appended, never generated)."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["▁"] + WORDS
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * (1 + len(WORDS))
    scores = [0.0, 0.0, 0.0] + [-1000.0] * 256 + [-float(i) for i in range(1 + len(WORDS))]
    if fim:
        tokens += [LINE]
        types += [gguf.TokenType.NORMAL]
        scores += [-float(len(WORDS) + 1)]
        tokens += FIM_TOKENS
        types += [gguf.TokenType.CONTROL] * len(FIM_TOKENS)
        scores += [0.0] * len(FIM_TOKENS)
    vocab, heads, ff, blocks = len(tokens), 4, 2 * dims, 2

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("chmocoder-tiny-llama")
    writer.add_context_length(context_length)
    writer.add_embedding_length(dims)
    writer.add_block_count(blocks)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(dims // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)

    def tensor(name: str, rows: int, cols: int) -> None:
        writer.add_tensor(name, (rng.standard_normal((rows, cols)) * 0.2).astype(np.float32))

    def ones(name: str, size: int) -> None:
        writer.add_tensor(name, np.ones(size, dtype=np.float32))

    embeddings = (rng.standard_normal((vocab, dims)) * 0.2).astype(np.float32)
    embeddings[:, 0] = 10.0
    writer.add_tensor("token_embd.weight", embeddings)
    ones("output_norm.weight", dims)
    output = (rng.standard_normal((vocab, dims)) * 0.2).astype(np.float32)
    output[:, 0] = 0.0
    suppressed = [0, 1, 2] + [
        3 + b for b in range(256) if b < 0x09 or 0x0B <= b < 0x20 or b >= 0x7F
    ]
    suppressed += range(vocab - len(FIM_TOKENS), vocab) if fim else []
    output[suppressed, 0] = -4.0
    if fim:  # it writes whole lines: LINE, again and again
        output[vocab - len(FIM_TOKENS) - 1, 0] = 4.0
    writer.add_tensor("output.weight", output)
    for b in range(blocks):
        ones(f"blk.{b}.attn_norm.weight", dims)
        tensor(f"blk.{b}.attn_q.weight", dims, dims)
        tensor(f"blk.{b}.attn_k.weight", dims, dims)
        tensor(f"blk.{b}.attn_v.weight", dims, dims)
        tensor(f"blk.{b}.attn_output.weight", dims, dims)
        ones(f"blk.{b}.ffn_norm.weight", dims)
        tensor(f"blk.{b}.ffn_gate.weight", ff, dims)
        tensor(f"blk.{b}.ffn_up.weight", ff, dims)
        tensor(f"blk.{b}.ffn_down.weight", dims, ff)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
