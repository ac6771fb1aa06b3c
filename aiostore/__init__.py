"""aiostore: one async API for local disk, memory, S3, GCS and Azure Blob.

Example:
    >>> import aiostore
    >>> async with aiostore.connect("fs:///srv/data") as store:
    ...     await store.write("a/b.txt", b"hi")
    ...     async for obj in store.list("a/"):
    ...         print(obj.path, obj.size)
"""

from ._adapter import Adapter, ReadStream, ServiceAdapter, WriteStream
from ._errors import (
    AdapterNotFoundError,
    AlreadyExistsError,
    ClosedError,
    ConditionNotMetError,
    EntityTooSmallError,
    IntegrityError,
    InvalidArgumentError,
    InvalidOffsetError,
    InvalidPathError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    StorageError,
    StoragerNotFoundError,
    StorageTimeoutError,
    UnsupportedError,
)
from ._listing import Listing
from ._pieces import Pieces
from ._registry import (
    ENTRY_POINT_GROUP,
    AdapterSpec,
    adapter_names,
    default_url_options,
    register,
    unregister,
)
from ._retry import RetryOptions, TimeoutOptions
from ._service import Service, connect, service
from ._store import Store
from ._streams import Reader, Writer
from ._transfer import TransferOptions
from ._types import (
    Capabilities,
    Limits,
    Object,
    ObjectType,
    Page,
    Part,
    Segment,
    Statistics,
    StorageMeta,
    StoragerInfo,
    WriteOptions,
)

__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "AdapterNotFoundError",
    "AdapterSpec",
    "AlreadyExistsError",
    "Capabilities",
    "ClosedError",
    "ConditionNotMetError",
    "EntityTooSmallError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidOffsetError",
    "InvalidPathError",
    "Limits",
    "Listing",
    "NotFoundError",
    "Object",
    "ObjectType",
    "Page",
    "Part",
    "PermissionDeniedError",
    "Pieces",
    "RateLimitedError",
    "ReadStream",
    "Reader",
    "Segment",
    "Service",
    "ServiceAdapter",
    "ServiceUnavailableError",
    "Statistics",
    "StorageError",
    "StorageMeta",
    "StorageTimeoutError",
    "StoragerInfo",
    "StoragerNotFoundError",
    "Store",
    "RetryOptions",
    "TimeoutOptions",
    "TransferOptions",
    "UnsupportedError",
    "WriteOptions",
    "WriteStream",
    "Writer",
    "__version__",
    "adapter_names",
    "connect",
    "default_url_options",
    "register",
    "service",
    "unregister",
]
