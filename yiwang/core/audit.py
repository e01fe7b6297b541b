"""Writing, checking and reading the audit log (see :mod:`yiwang.core.models_audit`).

``record`` appends one hash-chained row; ``reveal`` is the only way code should read the full value
of a personal-data field for a person (it checks the ``core.view_full_pii`` grant and logs the
read); ``verify_chain`` re-computes the chain. Login successes and failures are recorded by
receivers connected in :class:`yiwang.core.apps.CoreConfig`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from yiwang.core import pii
from yiwang.core.fields import EncryptedCharField
from yiwang.core.models_audit import GENESIS_HASH, AuditAction, AuditChainHead, AuditRecord

VIEW_FULL_PII = "core.view_full_pii"
HEAD_PK = 1


def _actor_name(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return str(actor.get_username())[:150]


def _json_safe(data: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON now, so the hashed value is exactly what the database gives back
    # (dates become strings, tuples become lists) and verification reproduces the same bytes.
    result: dict[str, Any] = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    return result


def _locked_head() -> AuditChainHead:
    """The chain head, locked for this transaction; created on first use (race-safe)."""
    try:
        return AuditChainHead.objects.select_for_update().get(pk=HEAD_PK)
    except AuditChainHead.DoesNotExist:
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(pk=HEAD_PK)
        except IntegrityError:
            pass  # another writer created it first; the locked read below waits for it
        return AuditChainHead.objects.select_for_update().get(pk=HEAD_PK)


def record(
    action: str,
    *,
    actor: Any,
    object: models.Model | None = None,
    field: str = "",
    reason: str = "",
    ip: str = "",
    success: bool = True,
    data: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditRecord:
    """Append one audit record and return it.

    Runs in the caller's transaction when there is one (so the record commits or rolls back with
    the change it describes). Writers serialise on the chain head row: PostgreSQL through
    ``SELECT … FOR UPDATE``, SQLite through its single writer lock (``transaction_mode=IMMEDIATE``).
    ``actor`` may be ``None`` or anonymous (then ``actor_name`` may name the attempted account).
    """
    if not action:
        raise ValueError("audit action must not be empty")
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        head = _locked_head()
        entry = AuditRecord(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_name=(actor_name if actor_name is not None else _actor_name(actor))[:150],
            action=action[:64],
            object_type=object._meta.label_lower if object is not None else "",
            object_id=str(object.pk)[:64] if object is not None and object.pk is not None else "",
            field=field[:64],
            reason=reason[:500],
            ip=(ip or "")[:64],
            success=success,
            data=_json_safe(data),
            prev_hash=head.hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def can_view_full_pii(actor: Any) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_active", False)
        and (actor.is_superuser or actor.has_perm(VIEW_FULL_PII))
    )


def reveal(obj: models.Model, field_name: str, *, actor: Any, reason: str, ip: str = "") -> str:
    """Return the full value of personal-data field ``field_name`` on ``obj`` and log the read.

    ``obj`` must already have been fetched through ``visible_to(actor)`` (scope is the caller's
    check; this one is the grant). Without ``core.view_full_pii`` (or superuser) the attempt is
    recorded with ``success=False`` and committed, then :class:`PermissionDenied` is raised — so
    call this outside any transaction that the exception would roll back.
    """
    try:
        model_field = obj._meta.get_field(field_name)
    except FieldDoesNotExist as exc:
        raise ValueError(f"{obj._meta.label} has no field {field_name!r}") from exc
    if not isinstance(model_field, EncryptedCharField):
        raise ValueError(f"{obj._meta.label}.{field_name} is not a personal-data (encrypted) field")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("查看完整个人信息须填写理由 / a reason is required to view full personal data")
    if not can_view_full_pii(actor):
        record(
            AuditAction.PII_REVEAL,
            actor=actor,
            object=obj,
            field=field_name,
            reason=reason,
            ip=ip,
            success=False,
        )
        raise PermissionDenied("无权查看完整个人信息 / not allowed to view full personal data")
    with transaction.atomic():
        value: str = getattr(obj, model_field.attname) or ""
        record(AuditAction.PII_REVEAL, actor=actor, object=obj, field=field_name, reason=reason, ip=ip)
    return value


def masked(value: object, kind: str = "") -> str:
    """Masked display of a personal value (``phone``, ``id_number``, ``name`` or ``""``)."""
    return pii.masked(value, kind)


def client_ip(request: HttpRequest | None) -> str:
    """The peer address as Django sees it. Behind a reverse proxy, the proxy must set REMOTE_ADDR
    (e.g. gunicorn ``--forwarded-allow-ips``); a client-supplied X-Forwarded-For is not trusted."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    pk: int | None
    kind: str  # "content", "link", "gap", "head"
    message: str

    def __str__(self) -> str:
        where = f"#{self.seq} (id {self.pk})" if self.seq is not None else "head"
        return f"{where}: {self.message}"


def _iter_chain(batch: int = 2000) -> Iterator[AuditRecord]:
    return AuditRecord.objects.order_by("seq").iterator(chunk_size=batch)


PURGE = "audit.purge"


def chain_start() -> tuple[int, str]:
    """Where the stored chain begins: sequence 1 after the genesis hash, or — once records older
    than the retention period were purged — right after the checkpoint the last ``audit.purge``
    record carries (that record is itself chained, so a forged checkpoint breaks the chain)."""
    mark = AuditRecord.objects.filter(action=PURGE).order_by("-seq").values_list("data", flat=True).first()
    if isinstance(mark, dict) and "through_seq" in mark:
        return int(mark["through_seq"]) + 1, str(mark.get("through_hash") or GENESIS_HASH)
    return 1, GENESIS_HASH


def verify_chain() -> list[ChainProblem]:
    """Re-compute every hash and link; an empty list means the log is intact."""
    problems: list[ChainProblem] = []
    expected_seq, expected_prev = chain_start()
    last: AuditRecord | None = None
    for entry in _iter_chain():
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(entry.seq, entry.pk, "gap", f"expected sequence {expected_seq}: records missing")
            )
        if entry.prev_hash != expected_prev:
            problems.append(
                ChainProblem(entry.seq, entry.pk, "link", "prev_hash does not match the previous record")
            )
        if entry.compute_hash() != entry.hash:
            problems.append(ChainProblem(entry.seq, entry.pk, "content", "content does not match its hash"))
        expected_prev, expected_seq, last = entry.hash, entry.seq + 1, entry
    head = AuditChainHead.objects.filter(pk=HEAD_PK).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    last_seq, last_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    if (head_seq, head_hash) != (last_seq, last_hash):
        problems.append(
            ChainProblem(
                None,
                None,
                "head",
                f"chain head is #{head_seq} but the last record is #{last_seq}: records removed or head altered",
            )
        )
    return problems


def records_since(since: datetime, until: datetime | None = None) -> models.QuerySet[AuditRecord]:
    qs = AuditRecord.objects.filter(at__gte=since).order_by("seq")
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs


# --- login receivers (connected in CoreConfig.ready) ----------------------------------------------


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(AuditAction.LOGIN, actor=user, ip=client_ip(request))


def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already replaced secrets in ``credentials`` with stars; keep only the account name
    # tried, as actor_name (there is no authenticated actor).
    username_field = get_user_model().USERNAME_FIELD
    attempted = str(credentials.get(username_field) or credentials.get("username") or "")[:150]
    record(
        AuditAction.LOGIN_FAILED,
        actor=None,
        actor_name=attempted,
        ip=client_ip(request),
        success=False,
    )
