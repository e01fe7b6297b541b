"""Rollups of the case timeline (issue 7): daily counts per dimension, filled from ``CaseEvent``.

Nothing here is written by signals: :func:`yiwang.analytics.rollup.catch_up` reads new events in
id order and moves a high-water mark in the same transaction as the counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

# The counted milestones, in the order of the flow. Each is a column of :class:`DailyRollup`; the
# source event and the "in time" rule of each are in docs/metrics.md.
MILESTONES: tuple[str, ...] = (
    "registered",
    "dispatched",
    "signed",
    "signed_in_time",
    "resolved",
    "resolved_in_time",
    "reworked",
    "closed",
    "closed_in_time",
    "called_back",
    "contacted",
    "solved",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "reopened",
    "overdue",
)

# The dimensions of a rollup row, as attribute names (``*_id`` columns and ``channel``).
DIMENSIONS: tuple[str, ...] = (
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "category_id",
    "channel",
    "department_id",
)


def _dim(to: str, verbose: Any) -> Any:
    # No database constraint: a rollup is derived data and must never block deleting or merging the
    # row it points at; ``rollup verify`` / ``rebuild`` repair it. No index of its own either: every
    # query filters on the period first, which the (period, dimension) indexes of each level serve;
    # a single-column index per dimension was a third of a rebuild's index work and never read.
    return models.ForeignKey(
        to,
        verbose_name=verbose,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


def _key(max_length: int) -> Any:
    # The primary key: the upserts name it as their conflict target. A separate ``id`` column was one
    # more index for a rebuild to build (40 s for the daily rows at 10 M cases) and a sequence value
    # for every row it writes, and no query read it.
    return models.CharField(_("维度键"), max_length=max_length, primary_key=True)


class MilestoneCounts(models.Model):
    """The counted milestones (see :data:`MILESTONES`), shared by the day and month levels."""

    registered = models.IntegerField(_("立案数"), default=0)
    dispatched = models.IntegerField(_("派遣数"), default=0)
    signed = models.IntegerField(_("签收数"), default=0)
    signed_in_time = models.IntegerField(_("按时签收数"), default=0)
    resolved = models.IntegerField(_("处置数"), default=0)
    resolved_in_time = models.IntegerField(_("按期处置数"), default=0)
    reworked = models.IntegerField(_("返工数"), default=0)
    closed = models.IntegerField(_("结案数"), default=0)
    closed_in_time = models.IntegerField(_("按期结案数"), default=0)
    called_back = models.IntegerField(_("回访数"), default=0)
    contacted = models.IntegerField(_("联系数"), default=0)
    solved = models.IntegerField(_("解决数"), default=0)
    satisfied = models.IntegerField(_("满意数"), default=0)
    basically_satisfied = models.IntegerField(_("基本满意数"), default=0)
    unsatisfied = models.IntegerField(_("不满意数"), default=0)
    reopened = models.IntegerField(_("二次办理数"), default=0)
    overdue = models.IntegerField(_("超时数"), default=0)

    class Meta:
        abstract = True
        # No count is negative: one check of the least (migration 0014), where a PositiveIntegerField
        # per count was 17 checks for each row written (a rebuild writes 60 M rows at 10 M cases).
        # Inserting 3 M daily rows: 4.5–5.4 s with the 17 against 3.4–3.7 s without; 3.1–3.6 s with
        # this one against 3.0–4.1 s without.
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Least(*MILESTONES), 0), name="%(class)s_counts_not_negative"
            )
        ]


class DailyRollup(MilestoneCounts):
    """Counts of one day (Asia/Shanghai) for one combination of area, category, channel and lead
    department. ``key`` is the combination as text: the upsert target (NULL dimensions would never
    match a unique constraint)."""

    key = _key(120)
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    community = _dim("grids.Division", _("社区"))
    grid = _dim("grids.Grid", _("网格"))
    category = _dim("cases.Category", _("分类"))
    channel = models.CharField(_("来源渠道"), max_length=16, blank=True)
    department = _dim("people.Department", _("主办单位"))

    class Meta(MilestoneCounts.Meta):
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        ordering = ["day", "key"]
        indexes = [
            models.Index(fields=["day", "street"], name="rollup_day_street"),
            models.Index(fields=["day", "community"], name="rollup_day_community"),
            models.Index(fields=["day", "grid"], name="rollup_day_grid"),
            models.Index(fields=["day", "department"], name="rollup_day_department"),
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.key}"


class MonthlyRollup(MilestoneCounts):
    """The same counts as :class:`DailyRollup`, summed per calendar month over fewer dimensions.

    Written in the same transaction as the daily rows (so the two never disagree); a period query
    takes whole months from here and only the days at its edges from the day levels."""

    key = _key(80)
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    channel = models.CharField(_("来源渠道"), max_length=16, blank=True)
    department = _dim("people.Department", _("主办单位"))

    class Meta(MilestoneCounts.Meta):
        verbose_name = _("月统计")
        verbose_name_plural = _("月统计")
        ordering = ["month", "key"]
        indexes = [models.Index(fields=["month", "street"], name="rollup_month_street")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.key}"


# --- the coarser levels: the same counts over fewer dimensions (see LEVELS) ------------------------
class CoarseRollup(MilestoneCounts):
    key = _key(80)

    class Meta(MilestoneCounts.Meta):
        abstract = True

    def __str__(self) -> str:
        return self.key


class DayStreetDepartmentRollup(CoarseRollup):
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    channel = models.CharField(_("来源渠道"), max_length=16, blank=True)
    department = _dim("people.Department", _("主办单位"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（街道×单位×渠道）")
        verbose_name_plural = _("日统计（街道×单位×渠道）")
        indexes = [
            models.Index(fields=["day", "street"], name="rollup_daysd_street"),
            models.Index(fields=["day", "department"], name="rollup_daysd_department"),
        ]


class DayStreetRollup(CoarseRollup):
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（街道）")
        verbose_name_plural = _("日统计（街道）")
        indexes = [models.Index(fields=["day", "street"], name="rollup_daystreet_street")]


class DayDepartmentRollup(CoarseRollup):
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    department = _dim("people.Department", _("主办单位"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（单位）")
        verbose_name_plural = _("日统计（单位）")
        indexes = [models.Index(fields=["day", "district"], name="rollup_daydept_district")]


class WeekDepartmentRollup(CoarseRollup):
    """The department table of one week (Monday to Sunday), for the whole weeks among a custom
    range's edge days: at 10 M cases each edge day was about 1 200 day rows to sum."""

    week = models.DateField(_("周"), help_text=_("该周星期一"))
    district = _dim("grids.Division", _("区县"))
    department = _dim("people.Department", _("主办单位"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("周统计（单位）")
        verbose_name_plural = _("周统计（单位）")
        indexes = [models.Index(fields=["week", "district"], name="rollup_weekdept_district")]


class MonthStreetRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（街道）")
        verbose_name_plural = _("月统计（街道）")
        indexes = [models.Index(fields=["month", "street"], name="rollup_monthstreet_street")]


class MonthDepartmentRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    department = _dim("people.Department", _("主办单位"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（单位）")
        verbose_name_plural = _("月统计（单位）")
        indexes = [models.Index(fields=["month", "district"], name="rollup_monthdept_district")]


class DayDistrictRollup(CoarseRollup):
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    channel = models.CharField(_("来源渠道"), max_length=16, blank=True)

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（区县）")
        verbose_name_plural = _("日统计（区县）")
        indexes = [models.Index(fields=["day", "district"], name="rollup_daydistrict_district")]


class DayDistrictCategoryRollup(CoarseRollup):
    """The category table of a day per district, without streets: what a leader of whole districts
    reads (at 10 M cases a month of the street × category rows was about 12 000 rows to sum, of
    these about 2 500)."""

    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（区县分类）")
        verbose_name_plural = _("日统计（区县分类）")
        indexes = [models.Index(fields=["day", "district"], name="rollup_daydistcat_district")]


class WeekDistrictCategoryRollup(CoarseRollup):
    week = models.DateField(_("周"), help_text=_("该周星期一"))
    district = _dim("grids.Division", _("区县"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("周统计（区县分类）")
        verbose_name_plural = _("周统计（区县分类）")
        indexes = [models.Index(fields=["week", "district"], name="rollup_weekdistcat_district")]


class MonthDistrictCategoryRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（区县分类）")
        verbose_name_plural = _("月统计（区县分类）")
        indexes = [models.Index(fields=["month", "district"], name="rollup_monthdistcat_district")]


class YearDistrictCategoryRollup(CoarseRollup):
    year = models.DateField(_("年份"), help_text=_("该年1月1日"))
    district = _dim("grids.Division", _("区县"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("年统计（区县分类）")
        verbose_name_plural = _("年统计（区县分类）")
        indexes = [models.Index(fields=["year", "district"], name="rollup_yeardistcat_district")]


class DayCategoryRollup(CoarseRollup):
    day = models.DateField(_("日期"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("日统计（分类）")
        verbose_name_plural = _("日统计（分类）")
        indexes = [models.Index(fields=["day", "street"], name="rollup_daycategory_street")]


class WeekCategoryRollup(CoarseRollup):
    """The category table of one week (Monday to Sunday), for the whole weeks among a custom range's
    edge days (see :class:`WeekGridRollup`)."""

    week = models.DateField(_("周"), help_text=_("该周星期一"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("周统计（分类）")
        verbose_name_plural = _("周统计（分类）")
        indexes = [models.Index(fields=["week", "street"], name="rollup_weekcategory_street")]


class MonthCategoryRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（分类）")
        verbose_name_plural = _("月统计（分类）")
        indexes = [models.Index(fields=["month", "street"], name="rollup_monthcategory_street")]


class MonthDistrictRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    channel = models.CharField(_("来源渠道"), max_length=16, blank=True)

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（区县）")
        verbose_name_plural = _("月统计（区县）")
        indexes = [models.Index(fields=["month", "district"], name="rollup_monthdistrict_district")]


class MonthGridRollup(CoarseRollup):
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    community = _dim("grids.Division", _("社区"))
    grid = _dim("grids.Grid", _("网格"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("月统计（网格）")
        verbose_name_plural = _("月统计（网格）")
        indexes = [
            models.Index(fields=["month", "street"], name="rollup_monthgrid_street"),
            models.Index(fields=["month", "community"], name="rollup_monthgrid_community"),
            models.Index(fields=["month", "grid"], name="rollup_monthgrid_grid"),
        ]


class WeekGridRollup(CoarseRollup):
    """The grid table of one week (Monday to Sunday), for the days of a custom range that do not
    make a whole month: at 10 M cases each edge day of a grid table read about 50 000 daily rows."""

    week = models.DateField(_("周"), help_text=_("该周星期一"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    community = _dim("grids.Division", _("社区"))
    grid = _dim("grids.Grid", _("网格"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("周统计（网格）")
        verbose_name_plural = _("周统计（网格）")
        indexes = [
            models.Index(fields=["week", "street"], name="rollup_weekgrid_street"),
            models.Index(fields=["week", "community"], name="rollup_weekgrid_community"),
            models.Index(fields=["week", "grid"], name="rollup_weekgrid_grid"),
        ]


class YearGridRollup(CoarseRollup):
    """The grid table of a whole year (or of this year so far) in one row per grid, instead of
    twelve month rows: a district's 15 000 grids × 11 months cost 0.2 s to sum."""

    year = models.DateField(_("年份"), help_text=_("该年1月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    community = _dim("grids.Division", _("社区"))
    grid = _dim("grids.Grid", _("网格"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("年统计（网格）")
        verbose_name_plural = _("年统计（网格）")
        indexes = [
            models.Index(fields=["year", "street"], name="rollup_yeargrid_street"),
            models.Index(fields=["year", "community"], name="rollup_yeargrid_community"),
            models.Index(fields=["year", "grid"], name="rollup_yeargrid_grid"),
        ]


class YearCategoryRollup(CoarseRollup):
    """The category table of a whole year (or this year so far) in one row per street and category
    instead of eleven or twelve month rows (at 10 M cases a year of month rows took 0.14–0.16 s)."""

    year = models.DateField(_("年份"), help_text=_("该年1月1日"))
    district = _dim("grids.Division", _("区县"))
    street = _dim("grids.Division", _("街道"))
    category = _dim("cases.Category", _("分类"))

    class Meta(CoarseRollup.Meta):
        verbose_name = _("年统计（分类）")
        verbose_name_plural = _("年统计（分类）")
        indexes = [models.Index(fields=["year", "street"], name="rollup_yearcategory_street")]


Period = Literal["day", "week", "month", "year"]
# Finer periods first.
PERIODS: tuple[Period, ...] = ("day", "week", "month", "year")
# The periods whose rows a period's rows can be summed into: each lies inside one of them. A week
# can straddle two months (and two years), so no month or year is ever summed from weeks.
SUMS_INTO: dict[Period, frozenset[Period]] = {
    "day": frozenset(PERIODS),
    "week": frozenset({"week"}),
    "month": frozenset({"month", "year"}),
    "year": frozenset({"year"}),
}


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _first_of_year(day: dt.date) -> dt.date:
    return day.replace(month=1, day=1)


# The first day of the period holding a day: the period column of a row.
PERIOD_START: dict[str, Callable[[dt.date], dt.date]] = {
    "day": lambda day: day,
    "week": lambda day: day - dt.timedelta(days=day.weekday()),  # its Monday
    "month": _first_of_month,
    "year": _first_of_year,
}


@dataclass(frozen=True)
class Level:
    """One table of the rollup lattice: its period (a day, or a month or year keyed by its first
    day) and the dimensions it keeps (a subset of :data:`DIMENSIONS`). Every level holds the same
    counts, written in the same transaction; a query reads the smallest level that keeps what it
    needs."""

    model: type[MilestoneCounts]
    period: Period
    dims: tuple[str, ...]

    @property
    def period_field(self) -> str:
        return self.period

    @property
    def period_rank(self) -> int:
        return PERIODS.index(self.period)

    @property
    def positions(self) -> tuple[int, ...]:
        """Where each kept dimension sits in a full key (after the period)."""
        return tuple(DIMENSIONS.index(d) for d in self.dims)


DAILY = Level(DailyRollup, "day", DIMENSIONS)
# Smallest first within each period: the query planner takes the first that fits.
LEVELS: tuple[Level, ...] = (
    Level(DayDistrictRollup, "day", ("district_id", "channel")),
    Level(DayStreetRollup, "day", ("district_id", "street_id")),
    Level(DayDepartmentRollup, "day", ("district_id", "department_id")),
    Level(DayStreetDepartmentRollup, "day", ("district_id", "street_id", "channel", "department_id")),
    Level(DayDistrictCategoryRollup, "day", ("district_id", "category_id")),
    Level(DayCategoryRollup, "day", ("district_id", "street_id", "category_id")),
    DAILY,
    # Week levels only for the big groupings (departments, categories, grids), whose edge days are
    # the costly ones; read only where they keep the month level's dimensions.
    Level(WeekDepartmentRollup, "week", ("district_id", "department_id")),
    Level(WeekDistrictCategoryRollup, "week", ("district_id", "category_id")),
    Level(WeekCategoryRollup, "week", ("district_id", "street_id", "category_id")),
    Level(WeekGridRollup, "week", ("district_id", "street_id", "community_id", "grid_id")),
    Level(MonthDistrictRollup, "month", ("district_id", "channel")),
    Level(MonthStreetRollup, "month", ("district_id", "street_id")),
    Level(MonthDepartmentRollup, "month", ("district_id", "department_id")),
    Level(MonthlyRollup, "month", ("district_id", "street_id", "channel", "department_id")),
    Level(MonthDistrictCategoryRollup, "month", ("district_id", "category_id")),
    Level(MonthCategoryRollup, "month", ("district_id", "street_id", "category_id")),
    Level(MonthGridRollup, "month", ("district_id", "street_id", "community_id", "grid_id")),
    # Year levels only for the two big groupings (grids, categories): the others are small enough in
    # months. A year level is read only where it keeps the month level's dimensions.
    Level(YearDistrictCategoryRollup, "year", ("district_id", "category_id")),
    Level(YearCategoryRollup, "year", ("district_id", "street_id", "category_id")),
    Level(YearGridRollup, "year", ("district_id", "street_id", "community_id", "grid_id")),
)


class RollupState(models.Model):
    """The one row that says how far the rollups have read: the highest processed event id.

    Writers lock it (``select_for_update``) for the whole batch, so several workers never count the
    same event twice."""

    high_water = models.BigIntegerField(_("已处理事件最大编号"), default=0)
    # Set while ``rollup rebuild`` recounts (in parallel workers): catch-up waits for it to end.
    rebuilding_since = models.DateTimeField(_("重算开始时间"), null=True, blank=True)
    # The last day whose GridTotals agree with the rollups (None: none do). Adding counts of a day
    # moves it back before that day; ``grid_totals.fill`` moves it forward.
    grid_totals_through = models.DateField(_("网格累计已更新至"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("统计进度")
        verbose_name_plural = _("统计进度")

    def __str__(self) -> str:
        return f"high water {self.high_water}"


class GridTotals(models.Model):
    """Every grid's running counts through ``day``: one int32 per milestone of
    ``grid_totals.GRID_MILESTONES`` and grid id (up to the highest grid id with counts when
    written), zlib-compressed. A cache of the daily rollups, so that a grid table of any period is
    the difference of two rows (:mod:`yiwang.analytics.grid_totals`); a day without rollup rows has
    no row."""

    day = models.DateField(_("日期"), unique=True)
    data = models.BinaryField(_("累计数"))

    class Meta:
        verbose_name = _("网格累计数")
        verbose_name_plural = _("网格累计数")

    def __str__(self) -> str:
        return self.day.isoformat()


class ProcessedEvent(models.Model):
    """Ids processed inside the overlap window below the high-water mark.

    Event ids are handed out at insert, not at commit: a long transaction can commit a lower id
    after a higher one was already counted. Each catch-up re-reads the last ``overlap`` ids and skips
    those listed here; rows older than the window are pruned."""

    event_id = models.BigIntegerField(_("事件编号"), primary_key=True)

    class Meta:
        verbose_name = _("已处理事件")
        verbose_name_plural = _("已处理事件")

    def __str__(self) -> str:
        return str(self.event_id)


class CaseTrack(models.Model):
    """What the rollups must remember about one case between events: its dimensions, the lead
    department of the running round, the due moments the events announced and whether a clock of
    the round was recorded as breached. Derived from events only, so a rebuild replays it."""

    case_id = models.BigIntegerField(_("案件编号"), primary_key=True)
    lead_department_id = models.IntegerField(_("主办单位"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("签收期限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结期限"), null=True, blank=True)
    accept_breached = models.BooleanField(_("签收已超时"), default=False)
    resolve_breached = models.BooleanField(_("办结已超时"), default=False)
    resolved_in_time = models.BooleanField(_("本轮按期处置"), default=False)

    class Meta:
        verbose_name = _("案件统计状态")
        verbose_name_plural = _("案件统计状态")

    def __str__(self) -> str:
        return str(self.case_id)


def _weight(verbose: Any, default: str) -> Any:
    return models.DecimalField(
        verbose,
        max_digits=5,
        decimal_places=3,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )


class MetricSettings(models.Model):
    """Weights and grade thresholds of the evaluations: data, editable in the admin (one row).

    Defaults from ../shared/reference/standards.md §3.2 (三率, a Beijing district tool: 基本满意
    ×0.9, 综合 = 响应10 % + 解决50 % + 满意40 %) and §1.4 (grades A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40)."""

    basically_satisfied_weight = _weight(_("基本满意折算系数"), "0.900")
    response_weight = _weight(_("响应率权重"), "0.100")
    solve_weight = _weight(_("解决率权重"), "0.500")
    satisfaction_weight = _weight(_("满意率权重"), "0.400")
    grade_a = models.DecimalField(_("A级下限"), max_digits=5, decimal_places=2, default=Decimal("90"))
    grade_b = models.DecimalField(_("B级下限"), max_digits=5, decimal_places=2, default=Decimal("75"))
    grade_c = models.DecimalField(_("C级下限"), max_digits=5, decimal_places=2, default=Decimal("60"))
    grade_d = models.DecimalField(_("D级下限"), max_digits=5, decimal_places=2, default=Decimal("40"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核参数")
        verbose_name_plural = _("考核参数")

    def __str__(self) -> str:
        return str(_("考核参数"))

    @classmethod
    def current(cls) -> MetricSettings:
        """The one row (created with the defaults on first use)."""
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls.objects.create()


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", _("周报")
    MONTHLY = "monthly", _("月报")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


# Roles that may read the district-wide reports the scheduler makes (when their grant covers the
# whole district); a street leader sees the reports they asked for, computed over their own area.
SYSTEM_REPORT_ROLES = ("leader", "administrator", "dispatcher")


class ReportQuerySet(models.QuerySet["Report"]):
    def visible_to(self, user: Any) -> ReportQuerySet:
        """Reports a user asked for (computed over their own scope), and the scheduler's district-wide
        reports for users whose scope is the whole district."""
        from yiwang.core.scoping import scope_of

        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.is_empty:
            return self.none()
        q = models.Q(requested_by_id=user.pk)
        if scope.district_ids and scope.roles.intersection(SYSTEM_REPORT_ROLES):
            q |= models.Q(requested_by__isnull=True)
        return self.filter(q)


class Report(models.Model):
    """A weekly or monthly Excel report, generated in the background. Its numbers come from the
    rollups over the requester's scope (the whole district when the scheduler asked)."""

    kind = models.CharField(_("类型"), max_length=16, choices=ReportKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    requested_by = models.ForeignKey(
        "people.User",
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    file = models.FileField(_("文件"), upload_to="reports/%Y/", blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("统计报表")
        verbose_name_plural = _("统计报表")
        ordering = ["-period_start", "-id"]
        constraints = [
            # One report per requester and period: asking again returns the existing one.
            models.UniqueConstraint(
                fields=["kind", "period_start", "requested_by"], name="report_unique_period_requester"
            ),
            models.UniqueConstraint(
                fields=["kind", "period_start"],
                condition=models.Q(requested_by__isnull=True),
                name="report_unique_period_system",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"

    @property
    def filename(self) -> str:
        return f"yiwang-{self.kind}-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}.xlsx"
