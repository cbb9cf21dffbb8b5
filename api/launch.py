"""`papercite serve` as a child process on loopback, waited for until it answers: what the tests
and the benchmarks start, each over a home of their own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Where `python -m core.cli` finds the project's packages, installed or not.
_PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_token(home: Path, name: str, *, write: bool = False) -> str:
    """A new token for `home`, made by `papercite token create` as a user would."""
    args = [sys.executable, "-m", "core.cli", "--home", str(home), "token", "create", name]
    done = subprocess.run(
        [*args, "--write"] if write else args, capture_output=True, text=True, cwd=_PROJECT, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@dataclass
class TeamServer:
    """`papercite serve --port PORT [extra…]` over `home`; its output goes to a log beside the home."""

    home: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> TeamServer:
        self.log = self.home.parent / f"serve-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "core.cli",
            "--home",
            str(self.home),
            "serve",
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, *self.extra],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=_PROJECT,
                env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"papercite serve exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"papercite serve did not answer: {self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
        self.process = None

    def output(self) -> str:
        return self.log.read_text() if self.log else ""
