"""Listing pages with `os.scandir`, sorted the way object stores sort keys.

A page is computed from scratch in one thread hop, resuming after ``token`` (the
last key of the previous page), so a listing stays correct while entries come and
go. A recursive walk visits each directory's entries in the order of their keys
(a directory ``d`` sorts as ``d/``), which yields every file in lexicographic
order of its full path, like S3; whole sub-trees at or before the token are
skipped without being read. Only the entries of the page are stat'ed.

Symlinks are followed while their target lies under the root (a directory cycle
is not entered twice); the adapter's own hidden files, names that cannot be
aiostore paths, and anything that is neither a file nor a directory are skipped.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

from .._types import Object, ObjectType, Page, Statistics
from ._meta import describe
from ._root import Root, is_listable, is_reserved

__all__ = ["list_page", "statistics"]

_FILE, _DIR = 0, 1
Entry = tuple[str, int, os.DirEntry[str]]


def list_page(root: Root, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
    """One page of ``directory`` (a dir key, ``""`` for the root)."""
    real = root.resolve(directory, op="list")
    if recursive:
        found = _walk(root, real, directory, token, frozenset({real}))
    else:
        found = (item for item in _level(root, real, directory) if token is None or item[0] > token)
    taken = list(itertools.islice(found, page_size + 1))
    entries = [obj for obj in map(_describe, taken[:page_size]) if obj is not None]
    next_token = taken[page_size - 1][0] if len(taken) > page_size else None
    return Page(entries=entries, next_token=next_token)


def statistics(root: Root) -> Statistics:
    """Count and total size of every file under the root, in one walk."""
    count = size = 0
    for _, _, entry in _walk(root, root.real, "", None, frozenset({root.real})):
        try:
            size += entry.stat().st_size
        except OSError:
            continue
        count += 1
    return Statistics(count=count, size=size)


def _walk(root: Root, real_dir: str, prefix: str, token: str | None, seen: frozenset[str]) -> Iterator[Entry]:
    """Files under ``real_dir`` in key order, only those after ``token``."""
    for key, kind, entry in _level(root, real_dir, prefix):
        if kind == _FILE:
            if token is None or key > token:
                yield key, kind, entry
            continue
        inside = token is not None and token.startswith(key)
        if token is not None and not inside and token > key:
            continue  # every key below ``key`` sorts before the token
        inner = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        if inner not in seen:
            yield from _walk(root, inner, key, token if inside else None, seen | {inner})


def _level(root: Root, real_dir: str, prefix: str) -> list[Entry]:
    """The listable entries of one directory, sorted by key (dirs as ``name/``)."""
    top = real_dir == root.real
    try:
        with os.scandir(real_dir) as scanner:
            raw = list(scanner)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[Entry] = []
    for entry in raw:
        if is_reserved(entry.name, top=top) or not is_listable(entry.name):
            continue
        kind = _kind(root, entry)
        if kind == _DIR:
            found.append((prefix + entry.name + "/", _DIR, entry))
        elif kind == _FILE:
            found.append((prefix + entry.name, _FILE, entry))
    found.sort(key=lambda item: item[0])
    return found


def _kind(root: Root, entry: os.DirEntry[str]) -> int | None:
    try:
        if entry.is_symlink() and not root.contains(os.path.realpath(entry.path)):
            return None
        if entry.is_dir():
            return _DIR
        if entry.is_file():
            return _FILE
    except OSError:
        return None
    return None


def _describe(item: Entry) -> Object | None:
    key, kind, entry = item
    if kind == _DIR:
        return Object(path=key, type=ObjectType.DIR)
    try:
        return describe(key, entry.stat())
    except OSError:
        return None  # removed since the directory was read
