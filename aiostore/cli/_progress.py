"""A rich progress bar on stderr for transfers, fed by the store's progress callbacks.

Example:
    >>> with Transfer(enabled=True, label="cp", files=1, total=size) as bar:
    ...     tracker = bar.file()
    ...     await store.write(path, data, progress=tracker)
    ...     tracker.finish(size)
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["FileProgress", "Transfer", "progress_enabled"]


def progress_enabled(choice: bool | None) -> bool:
    """``--progress`` / ``--no-progress`` win; otherwise show it when stderr is a terminal."""
    if choice is not None:
        return choice
    return sys.stderr.isatty()


class Transfer:
    """One bar for a whole command: bytes moved out of the total, files done out of the count.

    When disabled nothing is drawn, and the trackers cost almost nothing.
    """

    def __init__(self, *, enabled: bool, label: str, files: int, total: int | None) -> None:
        self._label = label
        self._files = files
        self._files_done = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = _make_progress()
            self._task = self._progress.add_task(self._description(), total=total)

    def __enter__(self) -> Transfer:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def file(self) -> FileProgress:
        """A tracker for one file's transfer, to pass as the store's ``progress``."""
        return FileProgress(self)

    def advance(self, size: int) -> None:
        if self._progress is not None and self._task is not None and size:
            self._progress.advance(self._task, size)

    def file_done(self) -> None:
        self._files_done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=self._description())

    def _description(self) -> str:
        return f"{self._label} {self._files_done}/{self._files} files"


class FileProgress:
    """Turns a store's ``progress(done, total)`` calls into advances of the shared bar."""

    def __init__(self, transfer: Transfer) -> None:
        self._transfer = transfer
        self._done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if done > self._done:
            self._transfer.advance(done - self._done)
            self._done = done

    def finish(self, size: int | None) -> None:
        """The file is complete: count whatever the callbacks did not report."""
        if size is not None:
            self(size, size)
        self._transfer.file_done()


def _make_progress() -> Progress:
    """The bar itself; rich is imported only when a bar is shown."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
