from __future__ import annotations

from tests.registry.conftest import _key_group_tags  # noqa: F401  (re-seed tags after a flush)
