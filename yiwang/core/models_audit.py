"""The audit log: an append-only, hash-chained record of security-relevant events.

Each :class:`AuditRecord` carries ``hash = SHA-256(canonical(record) + prev_hash)``, so changing,
removing or inserting a row anywhere breaks :func:`yiwang.core.audit.verify_chain` from that row on.
:class:`AuditChainHead` is a single row holding the last sequence number and hash: writers lock it
to keep the chain linear, and verification compares it with the last record, which also catches a
truncated tail. Rows are written only by :func:`yiwang.core.audit.record`; the model refuses updates
and deletes (integrity enforcement, not domain logic). A database role without UPDATE/DELETE on
``core_auditrecord`` is the production complement; the chain detects what slips past both.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = ""


class AuditAction:
    """The kernel's action names. Apps add their own dotted names (``case.dispatch`` …)."""

    PII_REVEAL = "pii.reveal"
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    EXPORT = "export"


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit record."""


class AuditRecordQuerySet(models.QuerySet["AuditRecord"]):
    def update(self, **kwargs: Any) -> int:
        # The one permitted change: deleting a user clears the navigation pointer (on_delete=SET_NULL
        # runs through QuerySet.update). ``actor`` is outside the hash; ``actor_name`` keeps who it was.
        if kwargs.keys() <= {"actor", "actor_id"} and all(v is None for v in kwargs.values()):
            return super().update(**kwargs)
        raise AppendOnlyError("审计记录只能追加，不能修改 / audit records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除 / audit records are append-only")


class AuditRecord(models.Model):
    seq = models.PositiveBigIntegerField(_("序号"), unique=True, editable=False)
    at = models.DateTimeField(_("时间"), db_index=True, editable=False)
    # Navigation only: SET_NULL keeps the log when a user is deleted. The hashed identity is
    # ``actor_name`` (the username at the time), which never changes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True, editable=False)
    action = models.CharField(_("动作"), max_length=64, db_index=True, editable=False)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, editable=False)
    field = models.CharField(_("字段"), max_length=64, blank=True, editable=False)
    reason = models.CharField(_("理由"), max_length=500, blank=True, editable=False)
    ip = models.CharField(_("IP 地址"), max_length=64, blank=True, editable=False)
    success = models.BooleanField(_("成功"), default=True, editable=False)
    data = models.JSONField(_("附加数据"), default=dict, blank=True, editable=False)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, unique=True, editable=False)

    objects: ClassVar[models.Manager[AuditRecord]] = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object")]
        permissions = [
            ("view_full_pii", _("查看完整个人信息（每次查看均记入审计）")),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("审计记录只能追加，不能修改 / audit records are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除 / audit records are append-only")

    def canonical(self) -> bytes:
        """The bytes the hash covers: every recorded fact, in a fixed order and encoding."""
        facts = {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor_name,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "field": self.field,
            "reason": self.reason,
            "ip": self.ip,
            "success": bool(self.success),
            "data": self.data,
            "prev": self.prev_hash,
        }
        return json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class AuditChainHead(models.Model):
    """The chain's single head row (pk 1): last sequence number and hash, locked by each writer."""

    seq = models.PositiveBigIntegerField(_("最后序号"), default=0)
    hash = models.CharField(_("最后哈希"), max_length=64, blank=True, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
