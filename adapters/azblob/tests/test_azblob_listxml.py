"""The fast List Blobs path against the SDK's: same entries, field by field, and same pages."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiostore_azblob import SPEC, AzblobAdapter
from aiostore_azblob._listxml import fetch_page, parse_page, scan_page, tree_page
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from aiostore import Object, ObjectType, Page, StoragerNotFoundError, Store
from aiostore.testing.servers import AzureServer

NAMES = [
    "a/1.txt",
    "a/b/2.txt",
    "a/b/c/3.txt",
    "with space/x y.txt",
    "unicodé/ünï €.txt",
    "amp&co/a&b.txt",
    "lt</a<b>.txt",
    "plus+/a+b.txt",
    "pct%/a%20b%2F.txt",
    "top.txt",
    "z.bin",
]
MARKERS = ["a/b/", "m/"]  # directory-marker blobs: never objects


async def _open(server: AzureServer, container: str, work_dir: str, fast: bool) -> AzblobAdapter:
    adapter = SPEC.open_store(
        name=container, work_dir=work_dir, connection_string=server.connection_string, fast_path=fast
    )
    assert isinstance(adapter, AzblobAdapter)
    await adapter.open()
    return adapter


@pytest.fixture
async def stores(
    azurite_server: AzureServer, container_name: str, az: Store, raw: ContainerClient
) -> AsyncIterator[tuple[AzblobAdapter, AzblobAdapter]]:
    """The tree under ``az``'s prefix, seen with the fast path and with the SDK."""
    work_dir = az.metadata().work_dir
    settings = ContentSettings(content_type="text/plain; charset=utf-8")
    await asyncio.gather(
        *(
            raw.upload_blob(
                work_dir + name,
                name.encode(),
                metadata={"Owner": "me", "k": "v&<"},
                content_settings=settings,
            )
            for name in NAMES
        ),
        *(raw.upload_blob(work_dir + name, b"") for name in MARKERS),
    )
    fast = await _open(azurite_server, container_name, work_dir, fast=True)
    slow = await _open(azurite_server, container_name, work_dir, fast=False)
    try:
        yield fast, slow
    finally:
        await fast.aclose()
        await slow.aclose()


async def _pages(
    adapter: AzblobAdapter, directory: str, recursive: bool, page_size: int
) -> list[list[Object]]:
    pages, token = [], None
    while True:
        page: Page = await adapter.list_page(directory, recursive=recursive, page_size=page_size, token=token)
        pages.append(page.entries)
        token = page.next_token
        if token is None:
            return pages


@pytest.mark.parametrize("recursive", [True, False])
@pytest.mark.parametrize("page_size", [3, 5000])
@pytest.mark.parametrize("directory", ["", "a/", "a/b/", "unicodé/", "pct%/", "plus+/", "missing/"])
async def test_fast_listing_matches_the_sdk(
    stores: tuple[AzblobAdapter, AzblobAdapter], recursive: bool, page_size: int, directory: str
) -> None:
    fast, slow = stores
    got = await _pages(fast, directory, recursive, page_size)
    expected = await _pages(slow, directory, recursive, page_size)
    assert got == expected
    for fast_page, slow_page in zip(got, expected, strict=True):
        for mine, theirs in zip(fast_page, slow_page, strict=True):
            for field in Object.__dataclass_fields__:
                assert getattr(mine, field) == getattr(theirs, field), (mine.path, field)


async def test_fast_listing_fills_every_field(stores: tuple[AzblobAdapter, AzblobAdapter]) -> None:
    fast, _ = stores
    entries = [entry for page in await _pages(fast, "", True, 4) for entry in page]
    assert [entry.path for entry in entries] == sorted(NAMES)
    top = next(entry for entry in entries if entry.path == "top.txt")
    assert top.size == len(b"top.txt")
    assert top.content_type == "text/plain; charset=utf-8"
    assert top.content_md5 == hashlib.md5(b"top.txt").hexdigest()
    assert top.etag is not None
    assert top.etag.startswith('"')
    assert top.updated_at is not None
    assert top.updated_at.tzinfo is not None
    stat = await fast.stat("top.txt")
    assert (top.etag, top.content_md5, top.updated_at) == (stat.etag, stat.content_md5, stat.updated_at)
    level = [entry for page in await _pages(fast, "", False, 2) for entry in page]
    assert [(entry.path, entry.type) for entry in level if entry.type is ObjectType.DIR][:2] == [
        ("a/", ObjectType.DIR),
        ("amp&co/", ObjectType.DIR),
    ]
    assert "m/" in [entry.path for entry in level]  # a prefix, not the marker blob


async def test_fast_listing_of_a_missing_container_raises_like_the_sdk(azurite_server: AzureServer) -> None:
    for fast in (True, False):
        adapter = await _open(azurite_server, "no-such-container-xyz", "", fast)
        try:
            with pytest.raises(StoragerNotFoundError) as caught:
                await adapter.list_page("d/", recursive=True, page_size=10, token=None)
            assert (caught.value.op, caught.value.path) == ("list", "d/")
        finally:
            await adapter.aclose()


def test_encoded_names_and_entities_are_decoded() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>'
        b'<Blob><Name Encoded="true">w%2F%EF%BF%BEx</Name><Properties><Content-Length>2</Content-Length>'
        b"<Content-Type /><Content-MD5 /><Etag>0x1</Etag><AccessTier /></Properties></Blob>"
        b"<BlobPrefix><Name>w/a&amp;&lt;b/</Name></BlobPrefix>"
        b'<BlobPrefix><Name Encoded="true">w/%01/</Name></BlobPrefix>'
        b"<Blob><Name>w/d/</Name><Properties /></Blob>"
        b"</Blobs><NextMarker>tok</NextMarker></EnumerationResults>"
    )
    entries, marker = parse_page(body, work_dir="w/")
    assert marker == "tok"
    assert [(entry.path, entry.type) for entry in entries] == [
        ("\x01/", ObjectType.DIR),
        ("a&<b/", ObjectType.DIR),
        ("\ufffex", ObjectType.FILE),
    ]
    blob = entries[2]
    assert (blob.size, blob.content_type, blob.content_md5, blob.etag, blob.storage_class) == (
        2,
        "",
        None,
        '"0x1"',
        None,
    )


async def test_fast_listing_sends_one_signed_get_per_page(
    azurite_server: AzureServer, container_name: str, az: Store, stores: tuple[AzblobAdapter, AzblobAdapter]
) -> None:
    sent: list[tuple[str, str]] = []

    async def seen(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        if "comp=list" in params.url.query_string:
            sent.append((params.headers.get("user-agent", ""), params.url.query.get("delimiter", "")))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(seen)
    work_dir = az.metadata().work_dir
    async with aiohttp.ClientSession(trace_configs=[trace], auto_decompress=False) as session:
        adapter = SPEC.open_store(
            name=container_name,
            work_dir=work_dir,
            connection_string=azurite_server.connection_string,
            session=session,
        )
        assert isinstance(adapter, AzblobAdapter)
        await adapter.open()
        try:
            # recursive, one blob a page: the markers pass every name, "pct%/a%20b%2F.txt" too
            pages = await _pages(adapter, "", True, 1)
        finally:
            await adapter.aclose()
    assert len(sent) == len(pages) > 1
    assert all(agent.startswith("aiostore-azblob") and delimiter == "" for agent, delimiter in sent), sent
    assert any("%" in obj.path for page in pages for obj in page)


@pytest.mark.parametrize("delimiter", [None, "/"])
async def test_scanner_and_tree_agree_on_the_service_answers(
    stores: tuple[AzblobAdapter, AzblobAdapter], delimiter: str | None
) -> None:
    scope = stores[0]._scope
    plane = scope.fast
    assert plane is not None
    marker: str | None = None
    while True:
        body = await fetch_page(plane, prefix=scope.work_dir, delimiter=delimiter, page_size=4, marker=marker)
        scanned = scan_page(body, work_dir=scope.work_dir)
        assert scanned is not None
        assert scanned == tree_page(body, work_dir=scope.work_dir)
        marker = scanned[1]
        if marker is None:
            break


BLOB = (
    "<Blob{attrs}>\n  <Name>{name}</Name>{version}\n  <Properties>\n"
    "    <Last-Modified>Sun, 22 Nov 2026 06:28:10 GMT</Last-Modified>\n    <Etag>0x8D1</Etag>\n"
    "    <Content-Length>{size}</Content-Length>\n    {ctype}\n    <Content-MD5>{md5}</Content-MD5>\n"
    "    <BlobType>BlockBlob</BlobType>\n    {tier}\n  </Properties>\n  <OrMetadata />\n</Blob>\n"
)


def _body(*items: str, marker: str = "<NextMarker />") -> bytes:
    head = '<?xml version="1.0" encoding="utf-8"?>\n<EnumerationResults ContainerName="c">\n'
    return (head + "<Blobs>\n" + "".join(items) + "</Blobs>\n" + marker + "\n</EnumerationResults>").encode()


@pytest.mark.parametrize(
    "body",
    [
        _body(
            BLOB.format(
                attrs="", name="w/a&amp;b &lt;c&gt; &quot;q&quot;", version="", size=3,
                ctype="<Content-Type>text/x; a=&quot;1&amp;2&quot;</Content-Type>",
                md5="1B2M2Y8AsgTpgAmY7PhCfg==", tier="<AccessTier>Cool</AccessTier>",
            ),
            BLOB.format(
                attrs=' Kind="x"', name="w/b", version="<VersionId>2026-01-01T00:00:00Z</VersionId>", size=0,
                ctype="<Content-Type />", md5="", tier="<AccessTier />",
            ),
            BLOB.format(attrs="", name="w/c", version="<VersionId />", size="", ctype="", md5="", tier=""),
            "<BlobPrefix>\n  <Name>w/a&amp;d/</Name>\n</BlobPrefix>\n",
            BLOB.format(attrs="", name="w/e/", version="", size=0, ctype="", md5="", tier=""),
            marker="<NextMarker>2!72!MDAw&amp;Mg--</NextMarker>",
        ),
        _body(),
        _body(marker="<NextMarker></NextMarker>"),
    ],
)  # fmt: skip
def test_scanner_and_tree_agree_on_unusual_answers(body: bytes) -> None:
    scanned = scan_page(body, work_dir="w/")
    assert scanned is not None
    assert scanned == tree_page(body, work_dir="w/")
    for mine, theirs in zip(scanned[0], tree_page(body, work_dir="w/")[0], strict=True):
        for field in Object.__dataclass_fields__:
            assert getattr(mine, field) == getattr(theirs, field), (mine.path, field)


@pytest.mark.parametrize(
    "body",
    [
        _body('<Blob><Name Encoded="true">w%2Fx</Name><Properties /></Blob>'),
        _body("<Blob><Name><![CDATA[w/x]]></Name><Properties /></Blob>"),
        _body("<Blob><Name>w/&#x41;</Name><Properties /></Blob>"),
        _body("<Blob><Name>w/x</Name><Properties /><Metadata><k>v</k></Metadata></Blob>"),
        _body("<!-- c --><Blob><Name>w/x</Name><Properties /></Blob>"),
        b"<EnumerationResults><Blobs /></EnumerationResults>",
    ],
)
def test_the_scanner_leaves_unusual_answers_to_the_tree(body: bytes) -> None:
    assert scan_page(body, work_dir="w/") is None
    assert parse_page(body, work_dir="w/") == tree_page(body, work_dir="w/")


def test_the_scanned_fields() -> None:
    entries, marker = parse_page(
        _body(
            BLOB.format(
                attrs="", name="w/a&amp;b", version="", size=3,
                ctype="<Content-Type>text/plain</Content-Type>",
                md5="1B2M2Y8AsgTpgAmY7PhCfg==", tier="<AccessTier>Cool</AccessTier>",
            ),
            "<BlobPrefix><Name>w/a/</Name></BlobPrefix>",
            marker="<NextMarker>m&amp;1</NextMarker>",
        ),
        work_dir="w/",
    )  # fmt: skip
    assert marker == "m&1"
    assert [(entry.path, entry.type) for entry in entries] == [
        ("a&b", ObjectType.FILE),
        ("a/", ObjectType.DIR),
    ]
    blob = entries[0]
    assert (blob.size, blob.content_type, blob.storage_class, blob.etag, blob.version) == (
        3, "text/plain", "Cool", '"0x8D1"', None,
    )  # fmt: skip
    assert blob.content_md5 == hashlib.md5(b"").hexdigest()
    assert blob.updated_at is not None
    assert blob.updated_at.isoformat() == "2026-11-22T06:28:10+00:00"


async def test_fast_statistical_matches_the_sdk(stores: tuple[AzblobAdapter, AzblobAdapter]) -> None:
    fast, slow = stores
    ours, sdk = await fast.statistical(), await slow.statistical()
    assert ours == sdk
    assert ours is not None
    assert (ours.count, ours.size) == (len(NAMES), sum(len(name.encode()) for name in NAMES))  # no markers
