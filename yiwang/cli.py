"""The ``yiwang`` command: a thin front over the project's Django management commands.

``yiwang serve``, ``yiwang demo``, ``yiwang import …``, ``yiwang export …``, ``yiwang check …`` and
every other management command (``yiwang migrate``, ``yiwang createsuperuser`` …).
"""

from __future__ import annotations

import os
import sys

# Subcommands whose management command has another name (``import`` is a Python keyword, and
# ``check`` extends Django's own system check with the project's checks).
ALIASES = {
    "import": "yiwang_import",
    "export": "yiwang_export",
    "check": "yiwang_check",
    "sla-scan": "sla_scan",
}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.config.settings")
    from django.core.management import execute_from_command_line

    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    execute_from_command_line(["yiwang", *args])


if __name__ == "__main__":
    main()
