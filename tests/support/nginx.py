"""Run Debian's nginx with deploy/nginx/ttsgate.conf in front of test replicas (a real proxy)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import wait_or_fail

NGINX = "/usr/sbin/nginx"
CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ttsgate.conf"


def nginx_missing() -> bool:
    return shutil.which(NGINX) is None and not Path(NGINX).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(conf: str, upstreams: list[str], port: int) -> str:
    """The deploy file with the test's upstream addresses and listen port (each server line's
    parameters, such as ``max_fails``, kept as the file has them)."""
    lines = re.findall(r"(?m)^    server 127\.0\.0\.1:\d+([^\n]*)\n", conf)
    assert len(lines) == 2, "deploy/nginx/ttsgate.conf should name two replicas"
    servers = "".join(f"    server {u}{lines[0]}\n" for u in upstreams)
    conf = re.sub(r"(?m)^    server 127\.0\.0\.1:\d+[^\n]*\n", "", conf)
    conf = conf.replace("    least_conn;", "    least_conn;\n" + servers.rstrip("\n"), 1)
    return conf.replace("listen 80;", f"listen 127.0.0.1:{port};", 1)


@contextmanager
def run_nginx(upstream_urls: list[str], tmp: Path) -> Iterator[str]:
    """nginx (daemon off, every path inside ``tmp``) proxying to the given ttsgate base URLs."""
    port = _free_port()
    upstreams = [u.removeprefix("http://") for u in upstream_urls]
    (tmp / "ttsgate.conf").write_text(render(CONF.read_text(), upstreams, port))
    temp = " ".join(
        f"{name}_temp_path {tmp}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n  access_log {tmp}/access.log;\n  {temp}\n  include {tmp}/ttsgate.conf;\n}}\n"
    )
    args = [NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-e", str(tmp / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_or_fail(f"{url}/ready", proc, timeout_s=10, log=tmp / "error.log", what="nginx")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
