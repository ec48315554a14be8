"""``ttsgate serve | say | voices | normalize | bench``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from ttsgate.config import describe

_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
EXIT_BAD_SETTING = 2  # a setting, the voice table or a keys file is invalid
EXIT_ENGINE_FAILED = 3  # an engine could not load (runtime.py)


def default_url(env: Mapping[str, str] | None = None) -> str:
    """The server ``say`` and ``voices`` talk to: ``TTSGATE_URL``, else the address ``ttsgate serve``
    listens on with the same settings (``TTSGATE_HOST``, ``TTSGATE_PORT``; a wildcard bind is
    reached on loopback)."""
    from ttsgate.config import Settings

    env = os.environ if env is None else env
    if env.get("TTSGATE_URL"):
        return env["TTSGATE_URL"]
    fields = Settings.model_fields
    host = env.get("TTSGATE_HOST") or str(fields["host"].default)
    port = env.get("TTSGATE_PORT") or str(fields["port"].default)
    host = host.strip()
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port.strip()}"


def _env_help() -> str:
    lines = ["settings (environment variables):"]
    for var, default, meaning in describe():
        lines.append(f"  {var:<30} {meaning} [default: {default or 'unset'}]")
    return "\n".join(lines)


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ttsgate", description="Self-hosted speech gateway.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the HTTP server",
        epilog=_env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="listen address (TTSGATE_HOST)")
    serve.add_argument("--port", type=int, help="listen port (TTSGATE_PORT)")
    serve.add_argument("--engines", help="comma-separated engines to load (TTSGATE_ENGINES)")
    serve.add_argument("--voices-file", help="voice table TOML (TTSGATE_VOICES_FILE)")
    serve.add_argument(
        "--wyoming",
        metavar="URI",
        help="also serve Home Assistant's Wyoming protocol, e.g. tcp://0.0.0.0:10200",
    )

    say = sub.add_parser("say", help="speak a text through a running server into a file")
    say.add_argument("text")
    say.add_argument("-o", "--output", required=True, help="output file")
    say.add_argument("--voice", default="zh_female_baker")
    say.add_argument("--speed", type=float, default=1.0)
    say.add_argument("--format", choices=_FORMATS, help="default: from the output file's extension, else mp3")
    url_help = "server URL (default: TTSGATE_URL, else http://TTSGATE_HOST:TTSGATE_PORT as `serve` uses them)"
    say.add_argument("--url", default=default_url(), help=url_help)
    say.add_argument(
        "--retries", type=int, default=3, help="send again after Retry-After when the server is busy (503)"
    )

    voices = sub.add_parser("voices", help="list the voices of a running server")
    voices.add_argument("--url", default=default_url(), help=url_help)

    norm = sub.add_parser("normalize", help="normalize stdin, one text per line, to stdout")
    norm.add_argument("--lang", choices=("zh", "en"), default="zh")

    from ttsgate.bench.cli import add_arguments as add_bench_arguments

    add_bench_arguments(sub.add_parser("bench", help="load-test speech endpoints and write a report"))
    return p


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from ttsgate.config import Settings
    from ttsgate.logging_setup import configure_logging
    from ttsgate.server import create_app
    from ttsgate.server.drain import DrainingServer
    from ttsgate.server.serving import uvicorn_options

    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "engines": args.engines,
            "voices_file": args.voices_file,
            "wyoming_uri": args.wyoming,
        }.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for err in exc.errors():
            name = "TTSGATE_" + "_".join(str(p) for p in err["loc"]).upper()
            print(f"ttsgate: invalid setting {name}: {err['msg']}", file=sys.stderr)
        return EXIT_BAD_SETTING
    configure_logging(settings.log_format, settings.log_level)
    try:
        app = create_app(settings)
    except ValueError as exc:  # a malformed voice table, keys file…: say which, without a traceback
        print(f"ttsgate: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTING
    # access_log=False: the middleware writes one access line per request (logger ttsgate.access).
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,  # after the drain: only what outlived TTSGATE_SHUTDOWN_GRACE_S
        **uvicorn_options(settings),  # header/keep-alive timeouts, header and WebSocket size limits
    )
    runtime = app.state.runtime

    # An engine that cannot load stops the server (runtime.py): exit 3, the log has named the
    # engine, the cause and the fix; systemd, Kubernetes and Compose then show a failed service.
    def failed() -> bool:
        return runtime.load_failure is not None

    DrainingServer(config, app.state.drain, settings.shutdown_grace_s, failed=failed).run()
    return EXIT_ENGINE_FAILED if failed() else 0


def _say(args: argparse.Namespace) -> int:
    from ttsgate.client import Client
    from ttsgate.exceptions import TTSGateError

    fmt = args.format
    if fmt is None:
        ext = os.path.splitext(args.output)[1].lstrip(".").lower()
        fmt = ext if ext in _FORMATS else "mp3"
    try:
        with Client(args.url, retries=max(0, args.retries)) as client:
            n = client.save(args.output, args.text, voice=args.voice, speed=args.speed, response_format=fmt)
    except TTSGateError as exc:
        print(f"ttsgate: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        return 1
    print(f"wrote {n} bytes of {fmt} to {args.output}", file=sys.stderr)
    return 0


def _voices(args: argparse.Namespace) -> int:
    from ttsgate.client import Client
    from ttsgate.exceptions import TTSGateError

    try:
        with Client(args.url) as client:
            for v in client.voices():
                print(f"{v['id']:<18} {v['language']:<5} {v['name']}")
            memory = client.ready().get("memory") or {}
            for engine, mb in sorted(memory.get("engines_rss_mb", {}).items()):
                print(f"engine {engine:<11} {mb:7.1f} MiB RSS (load + warm-up)")  # /ready's *_mb: MiB
            if "rss_mb" in memory:
                print(f"server             {memory['rss_mb']:7.1f} MiB RSS")
    except TTSGateError as exc:
        print(f"ttsgate: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _normalize(args: argparse.Namespace) -> int:
    from ttsgate.text.cli import run_normalize

    return run_normalize(args.lang, sys.stdin, sys.stdout)


def _bench(args: argparse.Namespace) -> int:
    from ttsgate.bench.cli import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    handlers = {"serve": _serve, "say": _say, "voices": _voices, "normalize": _normalize, "bench": _bench}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
