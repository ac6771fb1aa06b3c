"""aiostore-s3: the S3 adapter of aiostore, for AWS and S3-compatible services.

Registered under the ``s3`` name and scheme, plus one scheme per endpoint
profile (``seaweedfs://``, ``minio://``, ``ceph://``, ``r2://``, ``b2://``,
``oss://``, ``cos://``, ``kodo://``, ``qingstor://``).

Example:
    >>> import aiostore
    >>> async with aiostore.connect("s3://bucket/dir", region="eu-west-1") as store:
    ...     await store.write("hello.txt", b"hi")
    >>> async with aiostore.service("minio", endpoint="http://127.0.0.1:9000") as svc:
    ...     store = await svc.create("new-bucket")
"""

from aiostore import AdapterSpec

from ._adapter import S3Adapter
from ._config import S3Config, S3Options, url_options
from ._profiles import PROFILES, Profile
from ._service import S3Service

__all__ = ["PROFILES", "SPEC", "Profile", "S3Adapter", "S3Config", "S3Options", "S3Service"]

SPEC = AdapterSpec(
    name="s3",
    open_store=S3Adapter,
    open_service=S3Service,
    url_options=url_options,
    schemes=tuple(name for name in PROFILES if name != "aws"),
)
