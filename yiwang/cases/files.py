"""Checks for uploaded attachments: the type from the first bytes, the size from the settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File

from yiwang.cases.errors import InvalidCaseInput

ALLOWED_TYPES = "JPEG, PNG, WebP, PDF"


@dataclass(frozen=True)
class CheckedFile:
    file: File
    name: str
    content_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> str | None:
    """The MIME type from a file's magic bytes, or None if it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def check_file(upload: File) -> CheckedFile:
    """Validate one upload; raise :class:`InvalidCaseInput` (nothing written) when it is refused."""
    limit = settings.YIWANG_ATTACHMENT_MAX_BYTES
    name = (upload.name or "").rsplit("/", 1)[-1]
    size = upload.size or 0
    if size > limit:
        raise InvalidCaseInput(
            f"附件「{name}」过大（{size} 字节），上限为 {limit} 字节",
            f"attachment '{name}' is too large ({size} bytes; the limit is {limit})",
            field="attachments",
        )
    if size == 0:
        raise InvalidCaseInput(f"附件「{name}」为空", f"attachment '{name}' is empty", field="attachments")
    upload.seek(0)
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if not head:
            head = chunk[:16]
        digest.update(chunk)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise InvalidCaseInput(
            f"附件「{name}」的类型不被接受，只接受 {ALLOWED_TYPES}",
            f"attachment '{name}' is not an accepted type ({ALLOWED_TYPES})",
            field="attachments",
        )
    return CheckedFile(upload, name, content_type, size, digest.hexdigest())
