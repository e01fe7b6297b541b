"""Public API bookkeeping: Open311 API keys, their use log, and what an Open311 client submitted
beyond the case itself (token, media URLs, contact e-mail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedCharField


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A key that lets an outside application (a citizen app, a partner's system) create cases
    through Open311 (``POST requests``). Only the SHA-256 of the key is stored: the raw key is shown
    once, when it is created (``api.actions.create_api_key``). ``prefix`` names the key in lists and
    logs. A revoked key stays (its use log refers to it) but is refused."""

    name = models.CharField(_("名称"), max_length=100)
    organisation = models.CharField(_("使用单位"), max_length=200, blank=True)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    rate_limit_per_hour = models.PositiveIntegerField(
        _("每小时提交上限"), default=100, help_text=_("每个自然小时内允许的 POST 次数")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API密钥")
        verbose_name_plural = _("API密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKeyUse(models.Model):
    """One request made with a known API key (valid, revoked or over its limit): for audits and
    for spotting a leaked key."""

    key = models.ForeignKey(ApiKey, verbose_name=_("密钥"), on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=255)
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("状态码"))

    class Meta:
        verbose_name = _("API密钥使用记录")
        verbose_name_plural = _("API密钥使用记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["key", "at"], name="api_key_use_key_at")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.method} {self.path} {self.status_code}"


class Open311Submission(models.Model):
    """What an Open311 client sent with a case that the case itself does not hold: the token
    issued for it, the media URLs (kept as references, never fetched: the system is offline), the
    master-address id, and the reporter's e-mail / device / account ids (personal data: the e-mail
    is encrypted and none of them is ever shown through the public API)."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="open311"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("密钥"), on_delete=models.PROTECT, related_name="submissions"
    )
    token = models.CharField(_("令牌"), max_length=64, unique=True)
    media_urls = models.JSONField(_("媒体链接"), default=list, blank=True)
    address_id = models.CharField(_("地址编号"), max_length=100, blank=True)
    email = EncryptedCharField(_("电子邮箱"), max_length=254, blank=True)
    device_id = models.CharField(_("设备编号"), max_length=100, blank=True)
    account_id = models.CharField(_("账号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("Open311提交")
        verbose_name_plural = _("Open311提交")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.token}"
