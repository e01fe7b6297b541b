"""Tasks used only by the operations tests: each run leaves a line in a file, so runs can be counted."""

from __future__ import annotations

from pathlib import Path

from django.tasks import task


@task
def record_run(path: str, label: str) -> str:
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write(label + "\n")
    return label


def runs(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
