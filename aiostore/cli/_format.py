"""Text formatting for command output: sizes, times, listing lines, stat blocks.

Example:
    >>> format_size(3 * 1024**2, human=True)
    '3.0 MiB'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiostore import Object

__all__ = ["format_long", "format_size", "format_stat", "format_time", "relative_name"]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_size(size: int | None, *, human: bool = False) -> str:
    """Bytes as digits, or with a binary unit when ``human``; ``-`` when unknown."""
    if size is None:
        return "-"
    if not human:
        return str(size)
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_time(when: datetime | None) -> str:
    """ISO 8601 to the second; ``-`` when unknown."""
    return "-" if when is None else when.isoformat(timespec="seconds")


def relative_name(path: str, directory: str) -> str:
    """``path`` without the listed ``directory`` prefix (a dir path or ``""``)."""
    return path[len(directory) :] if directory and path.startswith(directory) else path


def format_long(obj: Object, name: str, *, human: bool = False) -> str:
    """One ``ls -l`` line: size, update time, type, name."""
    size = "-" if obj.is_dir and obj.size is None else format_size(obj.size, human=human)
    return f"{size:>12}  {format_time(obj.updated_at):<25}  {obj.type.value:<4}  {name}"


def format_stat(obj: Object, location: str, path: str) -> list[str]:
    """``key: value`` lines describing an object; unknown fields are left out."""
    fields: list[tuple[str, object]] = [
        ("location", location),
        ("path", path),
        ("type", obj.type.value),
        ("size", format_size(obj.size)),
        ("updated_at", format_time(obj.updated_at)),
        ("etag", obj.etag),
        ("content_type", obj.content_type),
        ("content_md5", obj.content_md5),
        ("storage_class", obj.storage_class),
        ("version", obj.version),
        ("id", obj.id),
    ]
    lines = [f"{key}: {value}" for key, value in fields if value is not None]
    lines.extend(_metadata_lines(obj.metadata))
    return lines


def _metadata_lines(metadata: Mapping[str, str]) -> list[str]:
    return [f"metadata.{key}: {metadata[key]}" for key in sorted(metadata)]
