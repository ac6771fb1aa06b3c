"""Endpoint profiles: what each S3-compatible service accepts.

A profile fixes the addressing style, the default region, the checksum sent
with every PUT and part, whether downloads ask for a stored checksum, how
DeleteObjects proves its body, whether ``If-None-Match: *`` is honoured, and
whether a single-part object's ETag is its MD5.
Pick one with ``profile="minio"`` or a scheme (``minio://bucket``); explicit
options (``addressing_style=``, ``region=``, ``checksum=``) still win.

Since botocore 1.36 (January 2025) the AWS SDKs add a CRC32 checksum to every
upload by default, sent as an ``aws-chunked`` trailer, and replace the
``Content-MD5`` of DeleteObjects by it. Several S3-compatible services refuse
one or the other. This adapter therefore always configures botocore with
``request_checksum_calculation="when_required"`` and
``response_checksum_validation="when_required"`` and sends the checksum the
profile names itself, as a plain header, never as a trailer. The README lists
each profile with the documents it is based on.

Example:
    >>> PROFILES["r2"].region
    'auto'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["PROFILES", "AddressingStyle", "ChecksumName", "Profile", "get_profile"]

ChecksumName = Literal["crc32c", "crc32", "md5", "none"]
AddressingStyle = Literal["auto", "path", "virtual"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """How to talk to one kind of S3 service.

    Attributes:
        name: the profile name, also a URL scheme (``r2://bucket``) except for ``aws``.
        addressing_style: ``path`` (``host/bucket/key``), ``virtual`` (``bucket.host/key``) or ``auto``.
        region: the signing region used when none is given; None asks the AWS chain.
        checksum: sent with every PUT and UploadPart: ``crc32c`` / ``crc32`` as
            ``x-amz-checksum-*``, ``md5`` as ``Content-MD5``, or ``none``.
        checksum_mode: whether GETs send ``x-amz-checksum-mode: ENABLED`` to get a
            stored checksum back (some services refuse the header).
        delete_md5: send ``Content-MD5`` with DeleteObjects instead of botocore's CRC32.
        conditional_write: whether ``If-None-Match: *`` on PUT is honoured; when
            False, ``if_not_exists`` is refused rather than silently ignored.
        endpoint: the documented endpoint form, for the README and error hints.
        source: where the behaviour is documented.
        region_in_host: a regex whose first group finds the region in the endpoint's
            host name, for services whose endpoints are per region.
        etag_md5: a single-part object's ETag is the hex MD5 of its bytes (except
            under SSE-KMS or SSE-C), so a whole read without ``x-amz-checksum-*``
            is checked against it.
        full_object: multipart uploads with a CRC checksum declare the
            ``FULL_OBJECT`` checksum type: the service combines the parts' CRCs into
            the CRC of the whole object, which whole reads are then checked against
            (a ``COMPOSITE`` checksum describes the parts and checks nothing).
            On only where it was seen to give the right value.
    """

    name: str
    addressing_style: AddressingStyle
    region: str | None
    checksum: ChecksumName
    checksum_mode: bool
    delete_md5: bool
    conditional_write: bool
    endpoint: str
    source: str
    region_in_host: str | None = None
    etag_md5: bool = False
    full_object: bool = False

    def region_for(self, endpoint: str | None) -> str | None:
        """The region named by ``endpoint``'s host, when this profile knows where to look."""
        if not endpoint or self.region_in_host is None:
            return None
        match = re.match(self.region_in_host, urlsplit(endpoint).hostname or "")
        return match.group(1) if match else None


def _profile(**kwargs: object) -> Profile:
    return Profile(**kwargs)  # type: ignore[arg-type]


_TABLE = (
    _profile(
        name="aws", addressing_style="auto", region=None, checksum="crc32c", checksum_mode=True,
        delete_md5=False, conditional_write=True, endpoint="https://s3.<region>.amazonaws.com",
        source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html",
        etag_md5=True,
    ),
    _profile(
        name="seaweedfs", addressing_style="path", region="us-east-1", checksum="crc32c", checksum_mode=True,
        delete_md5=False, conditional_write=True, endpoint="http://<host>:8333",
        source="https://github.com/seaweedfs/seaweedfs/wiki/Amazon-S3-API", etag_md5=True, full_object=True,
    ),
    _profile(
        name="minio", addressing_style="path", region="us-east-1", checksum="crc32c", checksum_mode=True,
        delete_md5=True, conditional_write=True, endpoint="http://<host>:9000",
        source="https://github.com/minio/minio/pull/15433", etag_md5=True,
    ),
    _profile(
        name="ceph", addressing_style="path", region="us-east-1", checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=True, endpoint="http://<rgw-host>:7480",
        source="https://docs.ceph.com/en/latest/radosgw/s3/", etag_md5=True,
    ),
    _profile(
        name="r2", addressing_style="virtual", region="auto", checksum="crc32c", checksum_mode=True,
        delete_md5=True, conditional_write=True, endpoint="https://<account_id>.r2.cloudflarestorage.com",
        source="https://developers.cloudflare.com/r2/api/s3/api/", etag_md5=True,
    ),
    _profile(
        name="b2", addressing_style="virtual", region=None, checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=False, endpoint="https://s3.<region>.backblazeb2.com",
        source="https://www.backblaze.com/docs/cloud-storage-s3-compatible-api",
        region_in_host=r"s3\.([a-z0-9-]+)\.backblazeb2\.com$",
    ),
    _profile(
        name="oss", addressing_style="virtual", region=None, checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=False, endpoint="https://s3.oss-<region>.aliyuncs.com",
        source="https://help.aliyun.com/en/oss/developer-reference/use-aws-sdks-to-access-oss",
        region_in_host=r"s3\.oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$",
    ),
    _profile(
        name="cos", addressing_style="virtual", region=None, checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=False, endpoint="https://cos.<region>.myqcloud.com",
        source="https://www.tencentcloud.com/document/product/436/32537",
        region_in_host=r"cos\.([a-z0-9-]+)\.myqcloud\.com$",
    ),
    _profile(
        name="kodo", addressing_style="path", region=None, checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=False, endpoint="https://s3.<region>.qiniucs.com",
        source="https://developer.qiniu.com/kodo/4086/aws-s3-compatible",
        region_in_host=r"s3\.([a-z0-9-]+)\.qiniucs\.com$",
    ),
    _profile(
        name="qingstor", addressing_style="path", region=None, checksum="md5", checksum_mode=False,
        delete_md5=True, conditional_write=False, endpoint="https://s3.<zone>.qingstor.com",
        source="https://docs.qingcloud.com/qingstor/s3.html",
        region_in_host=r"s3\.([a-z0-9-]+)\.(?:qingstor|qsstor)\.com$",
    ),
)  # fmt: skip

PROFILES: Mapping[str, Profile] = MappingProxyType({profile.name: profile for profile in _TABLE})


def get_profile(name: str | None) -> Profile:
    """The profile called ``name`` (``aws`` when None); `KeyError` lists the choices."""
    key = (name or "aws").lower()
    try:
        return PROFILES[key]
    except KeyError:
        raise KeyError(f"unknown S3 profile {name!r}; choose one of {', '.join(PROFILES)}") from None
