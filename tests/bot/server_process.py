"""Start `escalator serve` as a real process on a free port, for tests that need a real socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    def __init__(self, workdir: Path, database_url: str, cache_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/chat"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "ESCALATOR_DATABASE__URL": database_url,
            "ESCALATOR_MODELS__CACHE_DIR": str(cache_dir),
            "ESCALATOR_SERVER__RATE_BURST": "1000",
            "ESCALATOR_SERVER__RATE_PER_SECOND": "1000",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: BinaryIO | None = None
        self.log = workdir / f"server-{self.port}.log"

    def start(self, timeout: float = 120.0, until: str = "/readyz") -> ServerProcess:
        """Spawn the server and wait until `until` answers 200: /healthz once it takes messages, /readyz once
        its models have loaded too."""
        command = [sys.executable, "-m", "escalator.cli", "serve", "--port", str(self.port)]
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}{until}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {timeout} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, like a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
