"""The argument parser: one sub-command per operation, each bound to its coroutine.

Example:
    >>> args = build_parser().parse_args(["ls", "-l", "s3://bucket/dir/"])
    >>> args.command, args.long
    ('ls', True)
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import TypeAlias

from . import _commands, _copy

__all__ = ["Command", "build_parser"]

Command = Callable[[argparse.Namespace], Awaitable[int]]
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

_DESCRIPTION = """\
Copy, list and inspect objects in any aiostore store.

A LOCATION is a local path (docs/a.txt), an fs:// or file:// URL (fs:///abs/path),
or a store URL: scheme://name/path?option=value, for example
s3://bucket/dir/a.txt?endpoint=http://127.0.0.1:9000. Query parameters become
store options. A trailing "/" names a directory.
"""

_EPILOG = "Exit status: 0 on success, 1 on failure, 2 on bad usage, 130 when interrupted."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiostore",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_ls(commands)
    _add_stat(commands)
    _add_cat(commands)
    _add_cp(commands)
    _add_mv(commands)
    _add_rm(commands)
    _add_url(commands)
    _add_du(commands)
    return parser


def _version() -> str:
    try:
        return metadata.version("aiostore")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _command(
    commands: _Commands,
    name: str,
    handler: Command,
    help_text: str,
    *,
    human_flag: bool = False,
) -> argparse.ArgumentParser:
    """A sub-command; with ``human_flag``, ``-h`` means human-readable sizes and only
    ``--help`` prints help (as in ``ls -lh`` and ``du -h``)."""
    sub = commands.add_parser(name, help=help_text, description=help_text, add_help=not human_flag)
    if human_flag:
        sub.add_argument("--help", action="help", help="show this help message and exit")
        sub.add_argument("-h", "--human-readable", dest="human", action="store_true", help="KiB, MiB...")
    sub.set_defaults(handler=handler)
    return sub


def _add_ls(commands: _Commands) -> None:
    sub = _command(commands, "ls", _commands.ls, "list a directory (or name a file)", human_flag=True)
    sub.add_argument("-l", "--long", action="store_true", help="show size, update time and type")
    sub.add_argument("-r", "--recursive", action="store_true", help="list every object below")
    sub.add_argument("location", metavar="LOCATION")


def _add_stat(commands: _Commands) -> None:
    sub = _command(commands, "stat", _commands.stat, "describe objects as key: value lines")
    sub.add_argument("locations", metavar="LOCATION", nargs="+")


def _add_cat(commands: _Commands) -> None:
    sub = _command(commands, "cat", _commands.cat, "write objects' bytes to stdout")
    sub.add_argument("locations", metavar="LOCATION", nargs="+")


def _add_transfer_flags(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("-j", "--jobs", type=_positive, default=4, help="files transferred at once (default 4)")
    sub.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    sub.add_argument("src", metavar="SRC")
    sub.add_argument("dst", metavar="DST")


def _add_cp(commands: _Commands) -> None:
    sub = _command(commands, "cp", _copy.cp, "copy a file, or a directory with -r, between any locations")
    sub.add_argument("-r", "--recursive", action="store_true", help="copy a directory's contents onto DST")
    _add_transfer_flags(sub)


def _add_mv(commands: _Commands) -> None:
    sub = _command(commands, "mv", _copy.mv, "move a file or directory (across stores: copy, then delete)")
    _add_transfer_flags(sub)


def _add_rm(commands: _Commands) -> None:
    sub = _command(commands, "rm", _commands.rm, "delete objects, or directories with -r")
    sub.add_argument("-r", "--recursive", action="store_true", help="delete a directory and everything below")
    sub.add_argument("-f", "--force", action="store_true", help="a missing object is not an error")
    sub.add_argument("locations", metavar="LOCATION", nargs="+")


def _add_url(commands: _Commands) -> None:
    sub = _command(commands, "url", _commands.url, "print a URL (presigned when the store can) for an object")
    sub.add_argument("--expires", type=_positive, default=3600, help="seconds the URL stays valid")
    sub.add_argument("location", metavar="LOCATION")


def _add_du(commands: _Commands) -> None:
    sub = _command(commands, "du", _commands.du, "total size and object count", human_flag=True)
    sub.add_argument("locations", metavar="LOCATION", nargs="+")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value
