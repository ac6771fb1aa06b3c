"""The commands that read or remove: ``ls``, ``stat``, ``cat``, ``rm``, ``url``, ``du``.

Each takes the parsed arguments, opens the stores it needs in a `StorePool`, writes
its output to stdout and returns the exit status. Failures raise; ``main`` prints them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import aiostore

from ._errors import CommandError
from ._format import format_long, format_size, format_stat, relative_name
from ._locations import Kind, Location, StorePool, basename, dir_of, kind_of, parse_location

if TYPE_CHECKING:
    from aiostore import Object, Statistics, Store

__all__ = ["cat", "du", "ls", "rm", "stat", "url"]


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


async def _resolve(pool: StorePool, location: Location, verb: str) -> tuple[Store, Kind, Object | None]:
    store = await pool.open(location)
    kind, obj = await kind_of(store, location.path)
    if kind is Kind.MISSING:
        raise CommandError(f"{verb}: {location.text}: no such file or directory")
    return store, kind, obj


async def ls(args: argparse.Namespace) -> int:
    """``ls [-l] [-r] [-h] LOC``: one name per line, relative to LOC."""
    location = parse_location(args.location)
    async with StorePool() as pool:
        store, kind, obj = await _resolve(pool, location, "ls")
        if obj is not None and kind is Kind.FILE:
            _print_entry(obj, basename(obj.path), args)
            return 0
        directory = dir_of(location.path)
        async for entry in store.list(directory, recursive=args.recursive):
            _print_entry(entry, relative_name(entry.path, directory), args)
    return 0


def _print_entry(entry: Object, name: str, args: argparse.Namespace) -> None:
    _out(format_long(entry, name, human=args.human) if args.long else name)


async def stat(args: argparse.Namespace) -> int:
    """``stat LOC...``: ``key: value`` lines, a blank line between objects.

    A directory (which object stores only know as a prefix) shows as ``type: dir``.
    """
    async with StorePool() as pool:
        for index, text in enumerate(args.locations):
            location = parse_location(text)
            _, _, obj = await _resolve(pool, location, "stat")
            if obj is None:
                obj = aiostore.Object(dir_of(location.path), type=aiostore.ObjectType.DIR)
            if index:
                _out("")
            for line in format_stat(obj, location.text, location.shown(obj.path)):
                _out(line)
    return 0


async def cat(args: argparse.Namespace) -> int:
    """``cat LOC...``: the objects' bytes on stdout, streamed."""
    output = sys.stdout.buffer
    async with StorePool() as pool:
        for text in args.locations:
            location = parse_location(text)
            store = await pool.open(location)
            async with store.reader(location.path) as reader:
                async for chunk in reader:
                    output.write(chunk)
    output.flush()
    return 0


async def rm(args: argparse.Namespace) -> int:
    """``rm [-r] [-f] LOC...``: a missing object is an error unless ``-f``."""
    async with StorePool() as pool:
        for text in args.locations:
            await _remove(pool, parse_location(text), recursive=args.recursive, force=args.force)
    return 0


async def _remove(pool: StorePool, location: Location, *, recursive: bool, force: bool) -> None:
    store = await pool.open(location)
    kind, _ = await kind_of(store, location.path)
    if kind is Kind.MISSING and not force:
        raise CommandError(f"rm: {location.text}: no such file or directory")
    if kind is Kind.DIR:
        if not recursive:
            raise CommandError(f"rm: {location.text} is a directory (use -r)")
        if location.path == "":
            raise CommandError(f"rm: refusing to remove the root of {location.text}")
        await store.delete(dir_of(location.path), recursive=True)
    elif kind is Kind.FILE:
        await store.delete(location.path)


async def url(args: argparse.Namespace) -> int:
    """``url [--expires N] LOC``: a URL anyone can fetch until it expires."""
    location = parse_location(args.location)
    async with StorePool() as pool:
        store = await pool.open(location)
        _out(await store.reach(location.path, expires=args.expires))
    return 0


async def du(args: argparse.Namespace) -> int:
    """``du [-h] LOC...``: total size and object count under each location."""
    async with StorePool() as pool:
        for text in args.locations:
            location = parse_location(text)
            stats = await _usage(pool, location)
            size = format_size(stats.size, human=args.human)
            _out(f"{size}\t{stats.count} objects\t{location.text}")
    return 0


async def _usage(pool: StorePool, location: Location) -> Statistics:
    store, kind, obj = await _resolve(pool, location, "du")
    if kind is Kind.FILE and obj is not None:
        return aiostore.Statistics(count=1, size=obj.size or 0)
    if location.path == "":
        return await store.statistical()
    return await store.scoped(dir_of(location.path)).statistical()
