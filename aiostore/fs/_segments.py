"""Segments (explicit multipart uploads), staged under the root.

Each upload is a directory ``.aiostore-segments/<id>/`` holding ``manifest.json``
(the target key, write options, creation time) and one file per part, named by
its zero-padded index. Completing concatenates the parts in index order into a
temporary file next to the target and renames it into place; aborting removes
the directory. The staging directory is hidden from listings and removed when
the last upload leaves it. Every method blocks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .._errors import InvalidArgumentError, NotFoundError
from .._types import Object, Part, Segment, WriteOptions
from ._atomic import Staged, copy_fd, write_all
from ._hop import ADAPTER, Flag
from ._io import Settings
from ._meta import etag_of

__all__ = ["SegmentOps"]

_ID = re.compile(r"[0-9a-f]{32}")
_PART = re.compile(r"[0-9]{8}")
_MANIFEST = "manifest.json"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class SegmentOps:
    """Uploads in progress under one root."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.root

    def init(self, key: str, options: WriteOptions) -> Segment:
        self.root.resolve(key, op="init_segment")  # refuse a bad target now, not at completion
        upload_id = uuid.uuid4().hex
        created = datetime.now(UTC)
        manifest = {
            "path": key,
            "content_type": options.content_type,
            "metadata": dict(options.metadata),
            "if_not_exists": options.if_not_exists,
            "created_at": created.isoformat(),
        }
        directory = os.path.join(self.root.staging(op="init_segment"), upload_id)
        data = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
        self.root.retry_in_dir(directory, lambda: self._put(os.path.join(directory, _MANIFEST), data))
        return Segment(path=key, id=upload_id, created_at=created)

    def write(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        directory, _ = self._upload(segment, "write_segment")
        st = self._put(os.path.join(directory, f"{index:08d}"), data)
        return Part(index=index, size=st.st_size, etag=etag_of(st))

    def complete(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions, cancel: Flag
    ) -> Object:
        directory, manifest = self._upload(segment, "complete_segment")
        chosen = _choose_parts(directory, parts, segment.path)
        final = self.root.resolve(segment.path, op="complete_segment")
        if_not_exists = bool(manifest.get("if_not_exists")) or options.if_not_exists
        if if_not_exists and os.path.isfile(final):
            raise Staged.already_exists(segment.path)
        staged = self.settings.staged(final)
        try:
            for name in chosen:
                _append(staged.fd, os.path.join(directory, name))
        except BaseException:
            staged.discard()
            raise
        content_type = options.content_type or manifest.get("content_type")
        metadata = options.metadata or manifest.get("metadata") or {}
        obj = staged.publish(segment.path, content_type, metadata, if_not_exists=if_not_exists, cancel=cancel)
        self._remove(directory)
        return obj

    def abort(self, segment: Segment) -> None:
        if isinstance(segment.id, str) and _ID.fullmatch(segment.id):
            self._remove(os.path.join(self.root.staging(op="abort_segment"), segment.id))

    def list(self, directory: str) -> list[Segment]:
        staging = self.root.staging(op="list_segments")
        try:
            names = os.listdir(staging)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for name in names:
            manifest = _read_manifest(os.path.join(staging, name)) if _ID.fullmatch(name) else None
            path = manifest.get("path") if manifest else None
            if isinstance(path, str) and path.startswith(directory):
                found.append(Segment(path=path, id=name, created_at=_created(manifest)))
        return sorted(found, key=lambda seg: (seg.path, seg.id))

    # -- helpers -----------------------------------------------------------------
    def _upload(self, segment: Segment, op: str) -> tuple[str, dict[str, Any]]:
        """The upload's directory and manifest; `NotFoundError` unless it is in progress."""
        if isinstance(segment.id, str) and _ID.fullmatch(segment.id):
            directory = os.path.join(self.root.staging(op=op), segment.id)
            manifest = _read_manifest(directory)
            if manifest is not None and manifest.get("path") == segment.path:
                return directory, manifest
        raise NotFoundError(f"no upload {segment.id!r} in progress", path=segment.path, adapter=ADAPTER)

    def _put(self, path: str, data: bytes | memoryview) -> os.stat_result:
        """Write a small file atomically (temporary name, then rename)."""
        tmp = self.root.temp_for(path)
        fd = os.open(tmp, _CREATE, 0o666)
        try:
            try:
                write_all(fd, data)
                if self.settings.fsync:
                    os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return st

    def _remove(self, directory: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(directory)
        self.root.prune(os.path.dirname(directory))


def _choose_parts(directory: str, parts: Sequence[Part] | None, key: str) -> list[str]:
    """Part file names in the order to join them; every requested part must exist."""
    present = {int(name): name for name in os.listdir(directory) if _PART.fullmatch(name)}
    indexes = sorted(present) if parts is None else [part.index for part in parts]
    missing = [index for index in indexes if index not in present]
    if missing:
        raise InvalidArgumentError(f"parts {missing} were never uploaded", path=key, adapter=ADAPTER)
    for part in parts or ():
        size = os.stat(os.path.join(directory, present[part.index])).st_size
        if part.size != size:
            raise InvalidArgumentError(
                f"part {part.index} holds {size} bytes, not {part.size}", path=key, adapter=ADAPTER
            )
    return [present[index] for index in indexes]


def _append(fd: int, part: str) -> None:
    src = os.open(part, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        copy_fd(src, fd)
    finally:
        os.close(src)


def _read_manifest(directory: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(directory, _MANIFEST), "rb") as file:
            value = json.load(file)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _created(manifest: dict[str, Any] | None) -> datetime | None:
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return datetime.fromisoformat((manifest or {})["created_at"])
    return None
