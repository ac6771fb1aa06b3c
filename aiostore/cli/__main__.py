"""``python -m aiostore.cli``: the same as the ``aiostore`` console script."""

from __future__ import annotations

from . import main

raise SystemExit(main())
