"""Writes of the public API app: issuing and revoking API keys, logging their use, and turning an
Open311 POST into a case (through ``cases.actions.create_case``, the one intake action)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from yiwang.api.models import ApiKey, ApiKeyUse, Open311Submission
from yiwang.cases.actions import create_case
from yiwang.cases.choices import Channel
from yiwang.cases.errors import CaseNotFound
from yiwang.cases.models import Case, Category
from yiwang.core import audit
from yiwang.core.scoping import scope_of
from yiwang.people.models import Role, User

KEY_PREFIX_BYTES = 4  # 8 hex characters: enough to name a key, useless to guess it
KEY_SECRET_BYTES = 32
NAME_MAX = 100
TITLE_CHARS = 40


class ApiKeyError(Exception):
    """A refused key operation; ``zh`` / ``en`` are the human messages (Chinese first)."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


def hash_key(raw_key: str) -> str:
    """The stored form of a key. Keys are 256-bit random strings, so a plain SHA-256 (no salt, no
    stretching) cannot be reversed and lets a request find its key with one indexed lookup."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _require_administrator(actor: User | None) -> None:
    # ``None`` is the command line (``yiwang apikey``): whoever runs it controls the server anyway.
    if actor is None:
        return
    if not (getattr(actor, "is_superuser", False) or scope_of(actor).has_role(Role.ADMINISTRATOR)):
        raise ApiKeyError("只有系统管理员可以管理API密钥", "only administrators may manage API keys")


def _checked_name(name: str) -> str:
    text = (name or "").strip()
    if not text or len(text) > NAME_MAX:
        raise ApiKeyError(
            f"密钥名称不能为空且不超过 {NAME_MAX} 个字符", f"the key name must be 1–{NAME_MAX} characters"
        )
    return text


def _checked_limit(limit: int) -> int:
    if not isinstance(limit, int) or limit < 1:
        raise ApiKeyError("每小时提交上限须为正整数", "the hourly rate limit must be a positive integer")
    return limit


@transaction.atomic
def create_api_key(
    actor: User | None, name: str, *, organisation: str = "", rate_limit_per_hour: int = 100
) -> tuple[ApiKey, str]:
    """Issue a key; returns the row and the raw key, which is never stored nor shown again.

    Preconditions: an administrator (or ``None``: the command line). Writes the key and an audit
    record ``api_key.create``."""
    _require_administrator(actor)
    prefix = secrets.token_hex(KEY_PREFIX_BYTES)
    raw = f"{prefix}.{secrets.token_urlsafe(KEY_SECRET_BYTES)}"
    key = ApiKey.objects.create(
        name=_checked_name(name),
        organisation=(organisation or "").strip()[:200],
        prefix=prefix,
        key_hash=hash_key(raw),
        rate_limit_per_hour=_checked_limit(rate_limit_per_hour),
        created_by=actor,
    )
    audit.record("api_key.create", actor=actor, object=key, data={"prefix": prefix, "name": key.name})
    return key, raw


@transaction.atomic
def update_api_key(
    actor: User | None, key: ApiKey, *, name: str, organisation: str, rate_limit_per_hour: int
) -> ApiKey:
    """Rename a key or change its limit (the secret never changes: revoke and issue a new one)."""
    _require_administrator(actor)
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    locked.name = _checked_name(name)
    locked.organisation = (organisation or "").strip()[:200]
    locked.rate_limit_per_hour = _checked_limit(rate_limit_per_hour)
    locked.save(update_fields=["name", "organisation", "rate_limit_per_hour"])
    audit.record("api_key.update", actor=actor, object=locked, data={"prefix": locked.prefix})
    return locked


@transaction.atomic
def revoke_api_key(actor: User | None, key: ApiKey | str) -> ApiKey:
    """Revoke a key (given as the row or its prefix) at once; revoking twice is a no-op.

    Writes ``revoked_at`` and an audit record ``api_key.revoke``."""
    _require_administrator(actor)
    lookup = {"pk": key.pk} if isinstance(key, ApiKey) else {"prefix": key}
    locked = ApiKey.objects.select_for_update().filter(**lookup).first()
    if locked is None:
        raise ApiKeyError(f"没有前缀为 {key} 的API密钥", f"no API key with prefix {key}")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record("api_key.revoke", actor=actor, object=locked, data={"prefix": locked.prefix})
    return locked


def find_api_key(raw_key: str) -> ApiKey | None:
    """The key row of ``raw_key`` (revoked or not), or None. A read, no write."""
    if not raw_key or len(raw_key) > 200:
        return None
    return ApiKey.objects.filter(key_hash=hash_key(raw_key)).first()


def record_key_use(key: ApiKey, *, method: str, path: str, remote_addr: str | None, status_code: int) -> None:
    """Log one request made with ``key`` and bump ``last_used_at`` (outside the case transaction,
    so refused requests are logged too)."""
    now = timezone.now()
    ApiKeyUse.objects.create(
        key=key,
        at=now,
        method=method[:8],
        path=path[:255],
        remote_addr=remote_addr or None,
        status_code=status_code,
    )
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


@dataclass(frozen=True)
class ServiceRequestInput:
    """An Open311 ``POST requests`` after HTTP parsing (types checked, nothing validated yet)."""

    service_code: str
    lat: float | None = None
    lng: float | None = None
    address_string: str = ""
    address_id: str = ""
    attributes: Mapping[str, list[str]] = field(default_factory=dict)
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    media_urls: Sequence[str] = ()
    attachments: Sequence[File] = ()  # GeoReport v2.1 draft: multipart ``media`` uploads


def public_category(code: str) -> Category:
    """The category a citizen may report under ``code`` (active, public, not confidential)."""
    found = Category.objects.public().filter(code=code).first()
    if found is None:
        raise CaseNotFound(f"未知的服务代码：{code}", f"unknown service_code: {code}")
    return found


def _reporter_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if not (first and last):
        return first or last
    # Chinese names put the family name (last_name) first and take no space: 张 + 三 → 张三.
    if all(ord(ch) > 0x2E7F for ch in first + last):
        return last + first
    return f"{first} {last}"


def _title(description: str, category: Category) -> str:
    line = description.strip().splitlines()[0].strip() if description.strip() else ""
    if not line:
        return category.name
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


@transaction.atomic
def submit_service_request(
    *, key: ApiKey, data: ServiceRequestInput, idempotency_key: str = ""
) -> tuple[Case, Open311Submission]:
    """Register a case from an Open311 POST (channel ``open311``, no staff actor) and keep the
    Open311-only fields with a fresh token.

    Preconditions: an active key (checked by the caller, which also applies the rate limit), a
    public category. The case rules (location in the district, description ≤ 4000, attributes of
    the category) are ``create_case``'s; any :class:`CaseError` rolls everything back. The answers
    are passed only for the category's input attributes: clients send ``attribute[...]`` for
    services without metadata, and the spec tells servers to ignore unknown parameters."""
    category = public_category(data.service_code)
    inputs = set(category.attributes.filter(variable=True).values_list("code", flat=True))
    answers = {code: list(values) for code, values in data.attributes.items() if code in inputs}
    description = data.description.strip() or str(category.name)
    address = data.address_string.strip()
    if not address and data.address_id:
        address = f"地址编号 {data.address_id.strip()}"
    case = create_case(
        actor=None,
        channel=Channel.OPEN311,
        category=category,
        title=_title(description, category),
        description=description,
        lng=data.lng,
        lat=data.lat,
        address=address[:255],
        reporter_name=_reporter_name(data.first_name, data.last_name),
        reporter_phone=data.phone,
        attributes=answers,
        attachments=data.attachments,
        note=f"Open311 · {key.prefix}",
        # A client retrying after a timeout sends the same Idempotency-Key: the same case comes
        # back. Keys are namespaced by API key, so two clients cannot collide.
        idempotency_key=f"open311:{key.prefix}:{idempotency_key}" if idempotency_key else None,
    )
    existing = Open311Submission.objects.filter(case=case).first()
    if existing is not None:
        return case, existing
    submission = Open311Submission.objects.create(
        case=case,
        api_key=key,
        token=secrets.token_urlsafe(18),
        media_urls=list(data.media_urls),
        address_id=data.address_id.strip()[:100],
        email=data.email.strip()[:254],
        device_id=data.device_id.strip()[:100],
        account_id=data.account_id.strip()[:100],
        created_at=case.created_at,
    )
    return case, submission
