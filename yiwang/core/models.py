"""Kernel models: the shared abstract base, plus the work calendar tables (exceptions and hours)."""

from __future__ import annotations

import itertools

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """A row that remembers when it was created and last changed."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class CalendarSource(models.TextChoices):
    SEEDED = "chinese_calendar", _("法定节假日数据包")
    MANUAL = "manual", _("人工维护")


class CalendarDay(TimeStampedModel):
    """A day that breaks the default rule (Monday–Friday work, Saturday–Sunday rest).

    Only exceptions are stored: a statutory holiday on a weekday (``is_workday=False``) or a 调休
    make-up workday on a weekend (``is_workday=True``). Rows seeded from the ``chinese_calendar``
    package carry ``source=chinese_calendar``; a row edited by an administrator becomes ``manual``
    and a reseed never touches it, so a local decision (e.g. a district-wide typhoon closure, or
    cancelling a seeded day by storing it with the default value) always wins.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=100, blank=True)
    source = models.CharField(
        _("来源"), max_length=20, choices=CalendarSource.choices, default=CalendarSource.MANUAL
    )

    class Meta:
        verbose_name = _("日历例外日")
        verbose_name_plural = _("日历例外日")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date.isoformat()} {kind} {self.name}".rstrip()


# A common 机关 (government office) schedule; editable in the admin, this is only the seed value.
DEFAULT_WORK_PERIODS: list[list[str]] = [["08:30", "12:00"], ["13:30", "17:30"]]
DEFAULT_WARNING_SHARE = 0.8


def default_work_periods() -> list[list[str]]:
    return [list(p) for p in DEFAULT_WORK_PERIODS]


def parse_clock(text: object) -> int:
    """``"HH:MM"`` → seconds since midnight; ``"24:00"`` is allowed as the end of the day."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValidationError(_("时间格式应为 HH:MM / time must be HH:MM: %(v)r"), params={"v": text})
    hh, mm = text[:2], text[3:]
    if not (hh.isdigit() and mm.isdigit()):
        raise ValidationError(_("时间格式应为 HH:MM / time must be HH:MM: %(v)r"), params={"v": text})
    hours, minutes = int(hh), int(mm)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValidationError(_("时间超出范围 / time out of range: %(v)r"), params={"v": text})
    return hours * 3600 + minutes * 60


def parse_periods(value: object) -> list[tuple[int, int]]:
    """Validate a JSON list of ``[start, end]`` clock strings; return sorted second offsets."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("工作时段不能为空 / at least one working period is required"))
    periods: list[tuple[int, int]] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValidationError(
                _("每个工作时段应为 [开始, 结束] / each period must be [start, end]: %(v)r"),
                params={"v": item},
            )
        start, end = parse_clock(item[0]), parse_clock(item[1])
        if start >= end:
            raise ValidationError(
                _("时段开始须早于结束 / a period must start before it ends: %(v)r"), params={"v": item}
            )
        periods.append((start, end))
    periods.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(periods):
        if s2 < e1:
            raise ValidationError(_("工作时段不能重叠 / working periods must not overlap"))
    return periods


class WorkSchedule(TimeStampedModel):
    """The working hours of every working day, as data; exactly one row is active."""

    name = models.CharField(_("名称"), max_length=100, default="机关作息")
    periods = models.JSONField(
        _("工作时段"),
        default=default_work_periods,
        help_text=_('例如 [["08:30", "12:00"], ["13:30", "17:30"]]'),
    )
    warning_share = models.FloatField(
        _("预警比例"),
        default=DEFAULT_WARNING_SHARE,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("已用时限达到此比例时亮黄灯（0.8 = 80%）"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("工作时间")
        verbose_name_plural = _("工作时间")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="core_one_active_schedule"
            )
        ]

    def __str__(self) -> str:
        spans = "，".join(f"{a}–{b}" for a, b in self.periods) if isinstance(self.periods, list) else ""
        return f"{self.name} {spans}"

    def clean(self) -> None:
        try:
            parse_periods(self.periods)
        except ValidationError as exc:
            raise ValidationError({"periods": exc.messages}) from exc


from yiwang.core.models_audit import AuditChainHead, AuditRecord  # noqa: E402,F401
from yiwang.core.models_jobs import ScheduledJob  # noqa: E402,F401
from yiwang.core.models_security import PasswordHistory  # noqa: E402,F401
