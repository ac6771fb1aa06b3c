"""The ``aiostore`` command: copy, list and inspect objects in any store.

Usage (see ``aiostore --help``)::

    aiostore cp -r docs s3://bucket/docs?endpoint=http://127.0.0.1:9000
    aiostore ls -l -r fs:///srv/store
    aiostore cat fs:///srv/store/docs/index.md

`main` parses the arguments, runs the command's coroutine once with
``asyncio.run`` and turns expected failures into one line on stderr,
``aiostore: error: <message>``, with exit status 1 (2 for bad usage, 130 when
interrupted). Only a bug prints a traceback.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Coroutine

import aiostore

from ._errors import CommandError
from ._parser import build_parser

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (the console script exits with it).

    Example:
        >>> main(["ls", "-l", "fs:///tmp/store/"])
        0
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and bad usage
        return _status(exc.code)
    _tolerate_unencodable_output()
    return run(args.handler(args))


def run(command: Coroutine[object, object, int]) -> int:
    """Run a command coroutine, mapping expected failures to one stderr line and a status."""
    try:
        return asyncio.run(command)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except CommandError as exc:
        return _fail(exc.message)
    except aiostore.StorageError as exc:
        return _fail(_describe_storage_error(exc))
    except ImportError as exc:  # an installed adapter that cannot be imported
        return _fail(f"cannot load an adapter: {exc}")
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`aiostore cat x | head`): not worth a message
        return EXIT_FAILURE
    except OSError as exc:
        return _fail(_describe_os_error(exc))


def _status(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    return EXIT_USAGE


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    one_line = " ".join(message.split())
    sys.stderr.write(f"aiostore: error: {one_line}\n")
    sys.stderr.flush()
    return status


def _describe_storage_error(exc: aiostore.StorageError) -> str:
    """The error as the core words it, with local paths absolute again: the command's
    fs store is rooted at ``/``, so its paths lack the leading slash."""
    if exc.adapter == "fs" and exc.path is not None and not exc.path.startswith("/"):
        exc.path = "/" + exc.path
    return str(exc)


def _describe_os_error(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def _tolerate_unencodable_output() -> None:
    """Names a narrow locale cannot encode print escaped instead of failing the command."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
