"""The fast path's parsing and header building, checked against references without a server.

The listing scanner is checked against `ElementTree` on generated listings;
SSE-C headers and dates against botocore's own functions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, quote_plus
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import botocore.session  # type: ignore[import-untyped,unused-ignore]
import pytest
from aiostore_s3._config import parse_options
from aiostore_s3._errors import S3ResponseError
from aiostore_s3._fast import reads_covered
from aiostore_s3._fastplane import answer_fields, object_from_headers, request_headers
from aiostore_s3._sigv4 import uri_encode_path
from aiostore_s3._xml import (
    complete_body,
    delete_body,
    parse_answer,
    parse_delete_errors,
    parse_error,
    parse_list,
    scan_list,
    tree_list,
)
from botocore.handlers import sse_md5  # type: ignore[import-untyped,unused-ignore]
from botocore.serialize import create_serializer  # type: ignore[import-untyped,unused-ignore]
from botocore.utils import parse_timestamp  # type: ignore[import-untyped,unused-ignore]
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

import aiostore
from aiostore import ObjectType, TimeoutOptions

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
# characters XML 1.0 can carry (raw listings); url-encoded listings take any
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=20,
)


def _listing(
    keys: list[str], prefixes: list[str], *, url: bool, token: str | None, pretty: bool = False
) -> str:
    def enc(key: str) -> str:
        return quote_plus(key, safe="/") if url else escape(key)

    gap = "\n  " if pretty else ""
    contents = "".join(
        f"<Contents>{gap}<Key>{enc(key)}</Key>{gap}"
        f"<LastModified>2025-03-0{1 + i % 9}T10:11:12.000Z</LastModified>"
        f"{gap}<ETag>&quot;{i:032x}&quot;</ETag><Size>{i * 7}</Size><Owner><ID>o</ID></Owner>"
        f"<StorageClass>STANDARD</StorageClass>{gap}</Contents>{gap}"
        for i, key in enumerate(keys)
    )
    common = "".join(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)
    more = f"<NextContinuationToken>{escape(token)}</NextContinuationToken>" if token else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}"><Name>b</Name>'
        f"<Prefix>{enc('w/')}</Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
        f"{'<EncodingType>url</EncodingType>' if url else ''}"
        f"<IsTruncated>{'true' if token else 'false'}</IsTruncated>"
        f"{contents}{common}{more}</ListBucketResult>"
    )


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(XML_TEXT, max_size=6),
    prefixes=st.lists(XML_TEXT, max_size=3),
    url=st.booleans(),
    pretty=st.booleans(),
    token=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
)
def test_the_scanner_reads_what_elementtree_reads(
    keys: list[str], prefixes: list[str], url: bool, pretty: bool, token: str | None
) -> None:
    text = _listing(keys, prefixes, url=url, token=token, pretty=pretty)
    scanned, tree = scan_list(text), tree_list(text)
    assert scanned.files == tree.files
    assert scanned.prefixes == tree.prefixes == prefixes
    assert scanned.next_token == tree.next_token == token
    assert [file[0] for file in scanned.files] == keys
    assert all(file[3] is not None and file[3].startswith('"') for file in scanned.files)


def test_a_page_merges_files_and_dirs_in_key_order() -> None:
    text = _listing(["w/b.txt", "w/d/", "w/z.txt"], ["w/c/", "w/y/"], url=True, token="next")
    page = parse_list(text.encode(), work_dir="w/", prefix="w/")
    file, folder = ObjectType.FILE, ObjectType.DIR
    assert [(obj.path, obj.type) for obj in page.entries] == [
        ("b.txt", file), ("c/", folder), ("y/", folder), ("z.txt", file),
    ]  # fmt: skip
    assert page.next_token == "next"
    first = page.entries[0]
    assert (first.size, first.etag, first.storage_class) == (0, '"' + "0" * 32 + '"', "STANDARD")
    assert first.updated_at == datetime(2025, 3, 1, 10, 11, 12, tzinfo=UTC)


def test_unusual_bodies_go_through_elementtree() -> None:
    text = _listing(["w/a"], [], url=False, token=None).replace(
        "<Key>w/a</Key>", "<Key><![CDATA[w/a&b]]></Key>"
    )
    page = parse_list(text.encode(), work_dir="w/", prefix="w/")
    assert [obj.path for obj in page.entries] == ["a&b"]


def test_error_bodies() -> None:
    body = b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>gone &amp; lost</Message></Error>'
    assert parse_error(body) == ("NoSuchKey", "gone & lost")
    assert parse_error(b"") == ("", "")
    assert parse_error(b"<Error><Code>broken") == ("", "")
    assert parse_error(b"<html>proxy error</html>") == ("", "")


def test_sse_c_headers_equal_botocores() -> None:
    for key in (b"k" * 32, "s" * 32):
        params = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
        ours = request_headers(params)
        sse_md5(params)
        assert ours["x-amz-server-side-encryption-customer-key"] == params["SSECustomerKey"]
        assert ours["x-amz-server-side-encryption-customer-key-md5"] == params["SSECustomerKeyMD5"]
        assert ours["x-amz-server-side-encryption-customer-algorithm"] == "AES256"


def test_write_parameters_become_headers() -> None:
    headers = request_headers(
        {"ContentType": "text/plain", "Metadata": {"k": "v"}, "StorageClass": "STANDARD_IA",
         "IfNoneMatch": "*", "ChecksumCRC32C": "AAAAAA==", "ContentMD5": "x"}
    )  # fmt: skip
    assert headers == {
        "content-type": "text/plain", "x-amz-meta-k": "v", "x-amz-storage-class": "STANDARD_IA",
        "if-none-match": "*", "x-amz-checksum-crc32c": "AAAAAA==", "content-md5": "x",
    }  # fmt: skip


def test_head_answers_become_objects_like_botocore_reads_them() -> None:
    when = "Wed, 21 Oct 2015 07:28:00 GMT"
    headers = CIMultiDict(
        {"Content-Length": "10", "Content-Range": "bytes 0-9/99", "Last-Modified": when, "ETag": '"e"',
         "Content-Type": "text/plain", "x-amz-meta-Color": "blue", "X-Amz-Version-Id": "v1"},
    )  # fmt: skip
    obj = object_from_headers("a.txt", headers)
    assert obj.updated_at == parse_timestamp(when)
    assert (obj.size, obj.etag, obj.content_type, obj.storage_class) == (99, '"e"', "text/plain", "STANDARD")
    assert dict(obj.metadata) == {"Color": "blue"}
    assert obj.version == "v1"


@given(st.text(max_size=30))
def test_key_encoding_equals_quote(key: str) -> None:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates never reach here: the core refuses such paths
    assert uri_encode_path(key) == quote(key, safe="/-_.~")


def test_the_read_timer_is_left_to_the_core_only_when_it_is_stricter() -> None:
    config = parse_options({"name": "b", "read_timeout": 60.0})
    assert reads_covered(config, TimeoutOptions(attempt=60.0, stall=30.0))
    assert not reads_covered(config, None)
    assert not reads_covered(config, TimeoutOptions(attempt=None))
    assert not reads_covered(config, TimeoutOptions(stall=None))
    assert not reads_covered(config, TimeoutOptions(attempt=120.0))


def test_objects_without_metadata_share_one_read_only_mapping() -> None:
    first = object_from_headers("a", CIMultiDict({"Content-Length": "1"}))
    second = object_from_headers("b", CIMultiDict({"Content-Length": "2"}))
    assert first.metadata == {}
    assert first.metadata is second.metadata
    with pytest.raises(TypeError):
        first.metadata["k"] = "v"  # type: ignore[index]


def _parts_of(body: bytes) -> list[dict[str, str]]:
    root = ElementTree.fromstring(body)
    assert root.tag == f"{{{NS}}}CompleteMultipartUpload"
    return [{child.tag.split("}")[1]: child.text or "" for child in part} for part in root]


def test_the_complete_manifest_says_what_botocores_says() -> None:
    parts = [
        {"PartNumber": 1, "ETag": '"a&b<c>"', "ChecksumCRC32C": "AAAAAA=="},
        {"PartNumber": 2, "ETag": '"e2"', "ChecksumCRC32": "BBBBBB==", "ChecksumSHA256": "c2hh"},
        {"PartNumber": 3, "ETag": '"e3"'},
    ]
    model = botocore.session.get_session().get_service_model("s3").operation_model("CompleteMultipartUpload")
    params = {"Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": {"Parts": parts}}
    reference = create_serializer("rest-xml").serialize_to_request(params, model)["body"]
    ours = complete_body(parts)
    assert _parts_of(ours) == _parts_of(reference)
    assert _parts_of(ours)[0] == {"ETag": '"a&b<c>"', "ChecksumCRC32C": "AAAAAA==", "PartNumber": "1"}
    with pytest.raises(ValueError, match="Unknown"):
        complete_body([{"PartNumber": 1, "ETag": "e", "Unknown": "x"}])


def test_multipart_answers_and_errors_inside_them() -> None:
    created = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="{NS}">'
        "<Bucket>b</Bucket><Key>k</Key><UploadId>id&amp;1</UploadId></InitiateMultipartUploadResult>"
    ).encode()
    fields = {"Bucket": "b", "Key": "k", "UploadId": "id&1"}
    assert parse_answer(created) == ("InitiateMultipartUploadResult", fields)
    padded = b'\n <?xml version="1.0"?>\n <Error><Code>InternalError</Code><Message>late</Message></Error>'
    assert parse_answer(padded) == ("Error", {"Code": "InternalError", "Message": "late"})
    done = f"<CompleteMultipartUploadResult xmlns='{NS}'><ETag>&quot;x-2&quot;</ETag>"
    assert parse_answer(f"{done}</CompleteMultipartUploadResult>".encode())[1]["ETag"] == '"x-2"'
    with pytest.raises(ElementTree.ParseError):
        parse_answer(b"<html>proxy error")


def test_a_200_that_carries_an_error_is_a_500_with_its_code() -> None:
    body = b"\n  <Error><Code>InternalError</Code><Message>try again</Message></Error>"
    with pytest.raises(S3ResponseError) as info:
        answer_fields(body, "CompleteMultipartUploadResult", {})
    assert (info.value.status, info.value.code, info.value.message) == (500, "InternalError", "try again")
    with pytest.raises(aiostore.ServiceUnavailableError, match="unreadable"):
        answer_fields(b"<html>", "CompleteMultipartUploadResult", {})
    with pytest.raises(aiostore.ServiceUnavailableError, match="ListBucketResult"):
        answer_fields(b"<ListBucketResult/>", "CompleteMultipartUploadResult", {})


def test_the_delete_request_says_what_botocores_says() -> None:
    keys = ["a&b <c>.txt", "ünï/'q' \"d\".txt", "]]>", " padded "]
    model = botocore.session.get_session().get_service_model("s3").operation_model("DeleteObjects")
    params = {"Bucket": "b", "Delete": {"Objects": [{"Key": key} for key in keys], "Quiet": True}}
    reference = create_serializer("rest-xml").serialize_to_request(params, model)["body"]

    def read(body: bytes) -> tuple[str | None, list[str | None]]:
        root = ElementTree.fromstring(body)
        assert root.tag == f"{{{NS}}}Delete"
        quiet = root.find(f"{{{NS}}}Quiet")
        objects = root.findall(f"{{{NS}}}Object/{{{NS}}}Key")
        return (quiet.text if quiet is not None else None), [key.text for key in objects]

    assert read(delete_body(keys)) == read(reference) == ("true", keys)


def test_delete_answers_name_the_failed_keys() -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{NS}">'
        "<Error><Key> a&amp;b </Key><Code>AccessDenied</Code><Message> denied </Message></Error>"
        "<Error><Key>gone</Key><Code>NoSuchKey</Code><Message>m</Message></Error></DeleteResult>"
    ).encode()
    assert parse_delete_errors(body) == (
        "DeleteResult",
        [
            {"Key": " a&b ", "Code": "AccessDenied", "Message": "denied"},
            {"Key": "gone", "Code": "NoSuchKey", "Message": "m"},
        ],
    )
    assert parse_delete_errors(f'<DeleteResult xmlns="{NS}"/>'.encode()) == ("DeleteResult", [])
    failed = b'\n <?xml version="1.0"?>\n <Error><Code>InternalError</Code><Message>late</Message></Error>'
    assert parse_delete_errors(failed) == ("Error", [])
    assert parse_error(failed) == ("InternalError", "late")
