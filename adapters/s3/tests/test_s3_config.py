"""Options, URLs, profiles and registration: everything that happens before any I/O."""

from __future__ import annotations

import pytest
from aiostore_s3 import PROFILES, SPEC, S3Adapter, S3Service
from aiostore_s3._config import normalize_work_dir, parse_options, url_options

import aiostore
from aiostore import InvalidArgumentError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_entry_point_resolves_the_s3_scheme() -> None:
    store = aiostore.connect("s3://bucket/some/dir", region="eu-west-1")
    meta = store.metadata()
    assert (meta.adapter, meta.name, meta.work_dir) == ("s3", "bucket", "some/dir/")
    assert meta.limits.min_segment_size == 5 * 1024 * 1024
    assert meta.limits.max_page_size == 1000
    assert meta.capabilities.segments
    assert meta.capabilities.reach
    assert meta.capabilities.list_segments


@pytest.mark.parametrize("scheme", [name for name in PROFILES if name != "aws"])
def test_profile_schemes_select_the_profile(scheme: str) -> None:
    store = aiostore.connect(f"{scheme}://bucket", endpoint="http://127.0.0.1:9")
    adapter = store._adapter
    assert isinstance(adapter, S3Adapter)
    assert adapter.config.profile is PROFILES[scheme]
    assert adapter.capabilities.if_not_exists is PROFILES[scheme].conditional_write


def test_url_query_options_and_keywords_merge() -> None:
    options = url_options("s3://b/d?endpoint=http://127.0.0.1:9000&profile=minio&checksum=crc32")
    assert options == {
        "name": "b",
        "work_dir": "d/",
        "endpoint": "http://127.0.0.1:9000",
        "profile": "minio",
        "checksum": "crc32",
    }
    config = parse_options(options | {"max_pool_connections": "7"})
    assert (config.profile.name, config.checksum, config.max_pool_connections) == ("minio", "crc32", 7)
    assert config.addressing_style == "path"
    assert config.region == "us-east-1"


def test_explicit_options_win_over_the_profile() -> None:
    config = parse_options({"name": "b", "profile": "r2", "addressing_style": "path", "checksum": "none"})
    assert (config.region, config.addressing_style, config.checksum) == ("auto", "path", "none")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"name": "b", "bucket": "x"}, "unknown S3 options ['bucket']"),
        ({"name": "b", "profile": "nope"}, "unknown S3 profile 'nope'"),
        ({"name": "b", "checksum": "sha512"}, "checksum must be one of"),
        ({"name": "b", "endpoint": "ftp://host"}, "endpoint must be an http(s) URL"),
        ({"name": "b", "max_pool_connections": "lots"}, "max_pool_connections must be a number"),
        ({"name": "b", "sse": "rot13"}, "sse must be AES256"),
        ({"work_dir": "d"}, "invalid bucket name"),
    ],
)
def test_bad_options_are_refused_before_io(options: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        S3Adapter(**options)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_secrets_never_show_in_repr() -> None:
    adapter = S3Adapter(
        name="b", access_key_id="AKIDEXAMPLE", secret_access_key=SECRET, session_token="token-" + SECRET
    )
    service = S3Service(access_key_id="AKIDEXAMPLE", secret_access_key=SECRET)
    for text in (repr(adapter), repr(adapter.config), repr(service), repr(aiostore.Store(adapter))):
        assert SECRET not in text
    assert "secret_access_key=***" in repr(adapter.config)
    assert "AKIDEXAMPLE" in repr(adapter.config)


@pytest.mark.parametrize(
    ("given", "expected"), [(None, ""), ("", ""), ("/", ""), ("a", "a/"), ("/a/b/", "a/b/"), ("a/b", "a/b/")]
)
def test_work_dir_is_normalized(given: str | None, expected: str) -> None:
    assert normalize_work_dir(given) == expected


def test_every_profile_names_its_source() -> None:
    for profile in PROFILES.values():
        assert profile.source.startswith("https://")
        assert profile.checksum in ("crc32c", "crc32", "md5", "none")
    assert SPEC.schemes == tuple(name for name in PROFILES if name != "aws")


def test_service_storagers_share_one_client() -> None:
    service = S3Service(endpoint="http://127.0.0.1:9", profile="seaweedfs")
    first, second = service.storager("one", ""), service.storager("two", "dir")
    assert first._handle is second._handle is service._handle
    assert not first._owns_client
    assert (second.storager_name, second.work_dir) == ("two", "dir/")


@pytest.mark.parametrize(
    ("profile", "endpoint", "region"),
    [
        ("b2", "https://s3.us-west-004.backblazeb2.com", "us-west-004"),
        ("oss", "https://s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
        ("cos", "https://cos.ap-guangzhou.myqcloud.com", "ap-guangzhou"),
        ("kodo", "https://s3.cn-east-1.qiniucs.com", "cn-east-1"),
        ("qingstor", "https://s3.pek3a.qingstor.com", "pek3a"),
        ("minio", "http://127.0.0.1:9000", "us-east-1"),
        ("b2", "http://127.0.0.1:9000", None),
    ],
)
def test_region_comes_from_the_endpoint_where_the_profile_says(
    profile: str, endpoint: str, region: str | None
) -> None:
    assert parse_options({"name": "b", "profile": profile, "endpoint": endpoint}).region == region
    given = parse_options({"name": "b", "profile": profile, "endpoint": endpoint, "region": "xx-1"})
    assert given.region == "xx-1"
