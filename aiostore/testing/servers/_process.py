"""Spawn, probe and stop one local test server process (stdlib only).

Example:
    with ManagedProcess("moto", ["moto_server", "-p", "5000"], run_dir) as proc:
        proc.wait_ready(Probe("http://127.0.0.1:5000/moto-api/", statuses=frozenset({200})))
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["ManagedProcess", "Probe", "free_port", "port_is_free", "request"]

# Local servers must never be reached through an HTTP proxy taken from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Tell whether a server could listen on ``port`` now (TIME_WAIT leftovers are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def request(url: str, method: str = "GET", data: bytes | None = None, timeout: float = 5.0) -> int:
    """Send one HTTP request without any proxy; return the status (error statuses included)."""
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read()
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


@dataclass(frozen=True)
class Probe:
    """Readiness check: GET ``url``; ``statuses=None`` accepts any HTTP answer."""

    url: str
    statuses: frozenset[int] | None = None

    def ok(self) -> bool:
        """Return True when the server answered as expected."""
        try:
            status = request(self.url, timeout=1.0)
        except OSError:  # refused, reset, timed out, not HTTP yet
            return False
        return self.statuses is None or status in self.statuses


class ManagedProcess:
    """A child process in its own process group, logging to ``<run_dir>/<name>.log``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        run_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.run_dir = run_dir
        self.env = dict(os.environ if env is None else env)
        self.log_path = run_dir / f"{name}.log"
        self.startup_seconds = 0.0
        self.returncode: int | None = None  # set by stop()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id, also its process group id (0 before `start`)."""
        return self._proc.pid if self._proc is not None else 0

    def start(self) -> None:
        """Spawn the command (stdin closed, stdout+stderr to the log file)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                self.argv,
                cwd=self.run_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            self._close_log()
            raise

    def wait_ready(self, probe: Probe, timeout: float = 60.0) -> float:
        """Poll ``probe`` until it passes; return the seconds it took.

        Raises:
            RuntimeError: the process exited or ``timeout`` passed (message has the log tail).
        """
        started = time.monotonic()
        while not probe.ok():
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(self._failure(f"exited before {probe.url} was ready"))
            if time.monotonic() - started > timeout:
                raise RuntimeError(self._failure(f"not ready at {probe.url} after {timeout:.0f} s"))
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group, SIGKILL it after ``grace`` seconds, reap the child, close the log."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                _terminate_group(proc, grace)
                self.returncode = proc.returncode
        finally:
            self._close_log()

    def log_tail(self, lines: int = 30) -> str:
        """Return the last ``lines`` lines of the log file."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _failure(self, what: str) -> str:
        code = None if self._proc is None else self._proc.returncode
        return (
            f"{self.name} {what} (exit code {code}); command: {' '.join(self.argv)}\n"
            f"--- last lines of {self.log_path} ---\n{self.log_tail()}"
        )

    def _close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def __enter__(self) -> ManagedProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _terminate_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Stop the whole process group of ``proc`` and reap ``proc``."""
    _signal_group(proc.pid, signal.SIGTERM)
    exited = _wait_unreaped(proc, grace)
    # The leader is a zombie (not reaped yet), so its group id cannot be reused:
    # SIGKILL safely reaches any straggler, or the leader itself if it ignored SIGTERM.
    _signal_group(proc.pid, signal.SIGKILL)
    if not exited:
        _wait_unreaped(proc, grace)
    proc.wait()


def _wait_unreaped(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for ``proc`` to exit without reaping it; return True if it exited."""
    if proc.returncode is not None:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # already reaped elsewhere
            return True
        if info is not None:
            return True
        time.sleep(0.02)
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
