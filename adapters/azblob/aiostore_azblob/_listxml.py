"""List Blobs on the fast path: one signed GET per page, its XML read into aiostore values.

azure-storage-blob deserialises each listed blob into generated models and
then `BlobProperties` (hundreds of µs per blob). Here `scan_page` cuts the
machine-written page at each ``<Blob>``/``<BlobPrefix>`` and finds the few
fields with `str.find` (about a third of `ElementTree`'s CPU); any answer it is
not sure about (CDATA, comments, character references, encoded names,
metadata) goes through `tree_page` (`ElementTree`), and the tests check both
agree. Both fill `Object` drafts with the fields `Scope.object` takes from the
SDK's properties, under the same rules: names flagged
``Encoded="true"`` (not valid XML 1.0) are percent-decoded, ETags get their
quotes, ``Content-MD5`` becomes hex, an empty ``AccessTier`` is no storage
class. The SDK lists without ``include=``, so neither path asks for metadata;
a ``<Metadata>`` element the service sends anyway is read like the SDK reads it.

Example:
    >>> body = await fetch_page(plane, prefix="dir/", delimiter="/", page_size=100, marker=None)
    >>> entries, next_marker = parse_page(body, work_dir="dir/")
"""

from __future__ import annotations

import re
from operator import itemgetter
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

from aiostore import Object, ObjectType, StorageError
from aiostore._http import http_date
from aiostore._types import EMPTY_METADATA, draft_object, seal

from ._connection import md5_hex, quote_etag
from ._fastplane import FastPlane

__all__ = ["fetch_page", "parse_page", "scan_page", "tree_page"]

_FILE = ObjectType.FILE
_DIR = ObjectType.DIR
_first = itemgetter(0)
_ITEM = re.compile(r"<(Blob|BlobPrefix)(?:\s[^>]*)?>")
_PROPERTIES = ("Content-Length", "Last-Modified", "Content-MD5", "Content-Type", "Etag", "AccessTier")
#: The text of `_PROPERTIES`, then VersionId.
_Fields = tuple[str | None, str | None, str | None, str | None, str | None, str | None, str | None]
_MARKER = re.compile(r"<NextMarker>([^<]*)</NextMarker>")
_NO_MARKER = re.compile(r"<NextMarker\s*/>|<NextMarker></NextMarker>")
_ENTITIES = {"&quot;": '"', "&apos;": "'"}  # with unescape's own &amp; &lt; &gt;
# what the scanner leaves to ElementTree: CDATA, comments and DTDs, numeric character
# references, carriage returns (which XML normalises), encoded names and metadata;
# each check is one pass over the text, so there are few
_UNSURE = ("<!", "&#", "\r", "Encoded=", "<Metadata>")


async def fetch_page(
    plane: FastPlane, *, prefix: str, delimiter: str | None, page_size: int, marker: str | None
) -> bytes:
    """The body of one List Blobs answer (an error answer raises `AzureResponseError`)."""
    query = [("restype", "container"), ("comp", "list"), ("prefix", prefix), ("maxresults", str(page_size))]
    if delimiter:
        query.append(("delimiter", delimiter))
    if marker:
        query.append(("marker", marker))
    return await plane.list_blobs(query)


def _name(element: ElementTree.Element | None) -> str:
    if element is None:
        raise StorageError("a List Blobs answer has an entry without a name")
    text = element.text or ""
    return unquote(text) if element.get("Encoded") == "true" else text


def _blob(key: str, work_dir: str, fields: _Fields, metadata: dict[str, str]) -> Object:
    """The `Object` of one ``<Blob>`` (what `Scope.object` makes of the SDK's properties).

    ``fields`` is Content-Length, Last-Modified, Content-MD5, Content-Type, Etag,
    AccessTier and VersionId as text; an empty element reads as "" for text
    fields (the SDK's rule) and a missing one as None.
    """
    size, modified, md5, content_type, etag, tier, version = fields
    draft = draft_object()
    draft.path = key[len(work_dir) :]
    draft.type = _FILE
    draft.size = int(size) if size else None
    draft.updated_at = http_date(modified)
    draft.id = None
    draft.content_md5 = md5_hex(md5)
    draft.content_type = content_type
    draft.etag = quote_etag(etag)
    draft.storage_class = tier or None
    draft.version = version
    draft.metadata = metadata or EMPTY_METADATA
    return seal(draft)


def _directory(key: str, work_dir: str) -> Object:
    draft = draft_object()
    draft.path = key[len(work_dir) :]
    draft.type = _DIR
    draft.size = draft.updated_at = draft.id = draft.content_md5 = draft.content_type = None
    draft.etag = draft.storage_class = draft.version = None
    draft.metadata = EMPTY_METADATA
    return seal(draft)


def _sorted(found: list[tuple[str, Object]]) -> list[Object]:
    found.sort(key=_first)
    return [entry for _, entry in found]


def tree_page(body: bytes, *, work_dir: str) -> tuple[list[Object], str | None]:
    """`parse_page` through `ElementTree`: any well-formed answer."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise StorageError(f"the service sent an unreadable List Blobs answer: {exc}") from exc
    found: list[tuple[str, Object]] = []
    blobs = root.find("Blobs")
    for item in blobs if blobs is not None else ():
        key = _name(item.find("Name"))
        if item.tag == "BlobPrefix":
            found.append((key, _directory(key, work_dir)))
        elif item.tag == "Blob" and not key.endswith("/"):
            found.append((key, _blob(key, work_dir, _tree_fields(item), _tree_metadata(item))))
    return _sorted(found), root.findtext("NextMarker") or None


def _tree_fields(item: ElementTree.Element) -> _Fields:
    props = item.find("Properties")
    got = {child.tag: child.text or "" for child in props} if props is not None else {}
    version = item.find("VersionId")
    size, modified, md5, content_type, etag, tier = (got.get(name) for name in _PROPERTIES)
    return size, modified, md5, content_type, etag, tier, None if version is None else version.text or ""


def _tree_metadata(item: ElementTree.Element) -> dict[str, str]:
    meta = item.find("Metadata")
    return {child.tag: child.text or "" for child in meta} if meta is not None else {}


def scan_page(body: bytes, *, work_dir: str) -> tuple[list[Object], str | None] | None:
    """`parse_page` with `str.find` over the text; None when the answer has anything
    the scanner is not sure about (then `tree_page` reads it)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(marker in text for marker in _UNSURE):
        return None
    _, opened, rest = text.partition("<Blobs>")
    items, closed, tail = rest.rpartition("</Blobs>")
    if not (opened and closed):
        return None
    found: list[tuple[str, Object]] = []
    pieces = _ITEM.split(items)
    for at in range(1, len(pieces), 2):
        chunk = pieces[at + 1]
        key = _text(chunk, "<Name>")
        if key is None:
            return None
        if "&" in key:
            key = unescape(key, _ENTITIES)
        if pieces[at] == "BlobPrefix":
            found.append((key, _directory(key, work_dir)))
        elif not key.endswith("/"):
            found.append((key, _blob(key, work_dir, _scan_fields(chunk), {})))
    marker = _MARKER.search(tail)
    if marker is None:
        return None if _NO_MARKER.search(tail) is None else (_sorted(found), None)
    return _sorted(found), unescape(marker.group(1), _ENTITIES) or None


def _text(chunk: str, tag: str) -> str | None:
    """The text after the first ``tag`` (an opening tag) in ``chunk``; None without one."""
    start = chunk.find(tag)
    if start < 0:
        return None
    start += len(tag)
    return chunk[start : chunk.find("<", start)]


def _scan_fields(chunk: str) -> _Fields:
    content_type = _text(chunk, "<Content-Type>")
    if content_type is None:
        content_type = "" if "<Content-Type" in chunk else None  # <Content-Type />
    elif "&" in content_type:
        content_type = unescape(content_type, _ENTITIES)
    version = _text(chunk, "<VersionId>")
    if version is None and "<VersionId" in chunk:
        version = ""
    return (
        _text(chunk, "<Content-Length>"),
        _text(chunk, "<Last-Modified>"),
        _text(chunk, "<Content-MD5>"),
        content_type,
        _text(chunk, "<Etag>"),
        _text(chunk, "<AccessTier>"),
        version,
    )


def parse_page(body: bytes, *, work_dir: str) -> tuple[list[Object], str | None]:
    """The entries of one List Blobs page in name order (directory-marker blobs
    skipped), and the page's ``NextMarker`` (None on the last page)."""
    scanned = scan_page(body, work_dir=work_dir)
    return scanned if scanned is not None else tree_page(body, work_dir=work_dir)
