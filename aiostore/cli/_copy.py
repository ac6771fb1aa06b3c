"""``cp`` and ``mv``: plan the file pairs, then move bytes with bounded concurrency.

Within one store, ``cp`` uses the store's server-side copy and ``mv`` its move.
Between stores, bytes stream from ``store.reader`` into ``store.writer`` chunk by
chunk, so a file is never held whole in memory.

A directory copies onto the destination directory, keeping its layout:
``cp -r docs s3://b/site`` writes ``docs/a/x.md`` to ``site/a/x.md``.
A file copies into the destination when that names a directory (trailing ``/``
or an existing one), and onto it otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import CommandError
from ._locations import Kind, Location, StorePool, basename, dir_of, kind_of, parse_location
from ._progress import Transfer, progress_enabled

if TYPE_CHECKING:
    from aiostore import Store

__all__ = ["cp", "mv"]


@dataclass(frozen=True, slots=True)
class Job:
    """One file to transfer: source path, destination path, size when known."""

    src: str
    dst: str
    size: int | None


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one ``cp`` or ``mv`` will do."""

    src: Store
    dst: Store
    same_store: bool
    jobs: list[Job]
    src_dir: str | None  # set when the source is a directory

    @property
    def total(self) -> int | None:
        sizes = [job.size for job in self.jobs]
        return None if None in sizes else sum(size for size in sizes if size is not None)


async def cp(args: argparse.Namespace) -> int:
    """``cp [-r] SRC DST``."""
    src, dst = parse_location(args.src), parse_location(args.dst)
    async with StorePool() as pool:
        plan = await make_plan(pool, src, dst, recursive=args.recursive, verb="cp")
        with _transfer(args, plan, "cp") as transfer:
            await run_jobs(plan.jobs, lambda job: copy_one(plan, job, transfer), args.jobs)
    return 0


async def mv(args: argparse.Namespace) -> int:
    """``mv SRC DST``: a move inside one store, copy then delete across stores."""
    src, dst = parse_location(args.src), parse_location(args.dst)
    async with StorePool() as pool:
        plan = await make_plan(pool, src, dst, recursive=True, verb="mv")
        with _transfer(args, plan, "mv") as transfer:
            await run_jobs(plan.jobs, lambda job: move_one(plan, job, transfer), args.jobs)
        if plan.src_dir is not None:
            await _remove_if_empty(plan.src, plan.src_dir)
    return 0


def _transfer(args: argparse.Namespace, plan: Plan, label: str) -> Transfer:
    enabled = progress_enabled(args.progress)
    return Transfer(enabled=enabled, label=label, files=len(plan.jobs), total=plan.total)


async def make_plan(pool: StorePool, src: Location, dst: Location, *, recursive: bool, verb: str) -> Plan:
    """Work out which files go where, refusing what cannot be done before any transfer."""
    src_store, dst_store = await pool.open(src), await pool.open(dst)
    same = pool.same_store(src, dst)
    kind, obj = await kind_of(src_store, src.path)
    if kind is Kind.MISSING:
        raise CommandError(f"{verb}: {src.text}: no such file or directory")
    if kind is Kind.FILE:
        target = await _file_target(dst_store, dst, src.path)
        if same and target == src.path:
            raise CommandError(f"{verb}: {src.text} and {dst.text} are the same file")
        size = obj.size if obj is not None else None
        return Plan(src_store, dst_store, same, [Job(src.path, target, size)], None)
    if not recursive:
        raise CommandError(f"{verb}: {src.text} is a directory (use -r)")
    src_dir, dst_dir = dir_of(src.path), dir_of(dst.path)
    if same and dst_dir.startswith(src_dir):
        raise CommandError(f"{verb}: cannot copy {src.text} into itself ({dst.text})")
    if (await kind_of(dst_store, dst.path))[0] is Kind.FILE:
        raise CommandError(f"{verb}: {dst.text} is a file, not a directory")
    jobs = [
        Job(entry.path, dst_dir + entry.path[len(src_dir) :], entry.size)
        async for entry in src_store.list(src_dir, recursive=True)
        if not entry.is_dir
    ]
    return Plan(src_store, dst_store, same, jobs, src_dir)


async def _file_target(store: Store, dst: Location, src_path: str) -> str:
    """Where a single file lands: into a directory destination, onto anything else."""
    if dst.says_dir:
        return dir_of(dst.path) + basename(src_path)
    kind, _ = await kind_of(store, dst.path)
    return dir_of(dst.path) + basename(src_path) if kind is Kind.DIR else dst.path


async def run_jobs(jobs: list[Job], action: Callable[[Job], Awaitable[None]], limit: int) -> None:
    """Run ``action`` over ``jobs``, at most ``limit`` at once; the first failure stops the rest."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:  # the workers share one iterator: each job runs once
            await action(job)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(max(limit, 1), len(jobs))):
                group.create_task(worker())
    except ExceptionGroup as failures:
        raise first_error(failures) from None


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf exception of a (possibly nested) group."""
    first = group.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first


async def copy_one(plan: Plan, job: Job, transfer: Transfer) -> None:
    tracker = transfer.file()
    if plan.same_store:
        await plan.src.copy(job.src, job.dst)  # server-side when the adapter can
    else:
        await stream(plan.src, job.src, plan.dst, job.dst, progress=tracker)
    tracker.finish(job.size)


async def move_one(plan: Plan, job: Job, transfer: Transfer) -> None:
    if plan.same_store:
        tracker = transfer.file()
        await plan.src.move(job.src, job.dst)
        tracker.finish(job.size)
        return
    await copy_one(plan, job, transfer)
    await plan.src.delete(job.src)


async def stream(
    src: Store, src_path: str, dst: Store, dst_path: str, *, progress: Callable[[int, int | None], None]
) -> None:
    """Copy one object between stores chunk by chunk."""
    async with (
        src.reader(src_path) as reader,
        dst.writer(dst_path, size=reader.object.size, progress=progress) as writer,
    ):
        async for chunk in reader:
            await writer.write(chunk)


async def _remove_if_empty(store: Store, directory: str) -> None:
    """After a directory move, remove what is left of it (empty directories on disk).

    Nothing is removed while a file remains below, nor when an object shares the
    directory's name (``delete(recursive=True)`` would take that object too).
    """
    if directory == "" or await store.exists(directory[:-1]):
        return
    async for entry in store.list(directory, recursive=True):
        if not entry.is_dir:
            return
    await store.delete(directory, recursive=True)
