"""Lazy listings: an async iterator of objects that fetches a page only when asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from ._types import Object, Page

__all__ = ["Listing"]

PageFetcher = Callable[[str | None], Awaitable[Page]]


class Listing:
    """What ``Store.list`` returns.

    Iterate it for objects, or call `pages` for lists of objects, one request
    per page. Nothing is fetched before the first iteration, and a page is
    fetched only when the previous one is used up.

    Example:
        >>> async for obj in store.list("photos/", recursive=True):
        ...     print(obj.path, obj.size)
        >>> async for page in store.list("photos/", page_size=100).pages():
        ...     print(len(page))
    """

    def __init__(self, fetch: PageFetcher, convert: Callable[[Object], Object] | None = None) -> None:
        self._fetch = fetch
        self._convert = convert

    async def pages(self) -> AsyncIterator[list[Object]]:
        """Each page as a list, fetched lazily; empty pages are skipped."""
        token: str | None = None
        while True:
            page = await self._fetch(token)
            entries = page.entries
            if self._convert is not None:
                entries = [self._convert(entry) for entry in entries]
            if entries:
                yield entries
            if page.next_token is None or page.next_token == token:
                return
            token = page.next_token

    def __aiter__(self) -> AsyncIterator[Object]:
        return self._objects()

    async def _objects(self) -> AsyncIterator[Object]:
        async for page in self.pages():
            for entry in page:
                yield entry
