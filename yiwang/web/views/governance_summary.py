"""The co-governance figures on the command center's dashboard: one row per figure, each module's
own statistics over what the user may see, linked to the module's page. Modules whose pages the
user cannot open are left out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.governance.campaigns.models import Campaign, CampaignStatus
from yiwang.governance.campaigns.progress import campaign_progress
from yiwang.governance.deliberation.queries import stats as deliberation_stats
from yiwang.governance.enterprise.stats import demand_stats
from yiwang.governance.mediation.stats import mediation_stats
from yiwang.governance.projects.status import dashboard as projects_dashboard
from yiwang.web.access import pages_for

Figure = tuple[str, str, Any]  # (module page name, label, value)


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.max, tzinfo=tz),
    )


def _deliberation(user: Any, start: dt.date, end: dt.date) -> list[Figure]:
    s = deliberation_stats(user)
    return [(_("村民议事"), _("议题（全部）"), s.total), (_("村民议事"), _("已形成决议"), s.resolutions_passed),
            (_("村民议事"), _("实施结果已公开"), s.results_published)]  # fmt: skip


def _mediation(user: Any, start: dt.date, end: dt.date) -> list[Figure]:
    total = mediation_stats(user, *_day_bounds(start, end)).total
    return [(_("矛盾调解"), _("受理纠纷（期内）"), total.disputes),
            (_("矛盾调解"), _("调解成功率%"), _pct(total.success_rate)),
            (_("矛盾调解"), _("超期"), total.overdue)]  # fmt: skip


def _projects(user: Any, start: dt.date, end: dt.date) -> list[Figure]:
    board = projects_dashboard(user)
    return [(_("攻坚项目"), _("红灯项目"), board.by_colour.get("red", 0)),
            (_("攻坚项目"), _("黄灯项目"), board.by_colour.get("yellow", 0)),
            (_("攻坚项目"), _("超期节点"), len(board.overdue_nodes))]  # fmt: skip


def _enterprise(user: Any, start: dt.date, end: dt.date) -> list[Figure]:
    total = demand_stats(user, start=start, end=end).total
    return [(_("政企直通车"), _("企业诉求（期内）"), total.demands),
            (_("政企直通车"), _("申请金额（万元）"), round(float(total.requested) / 10_000, 1)),
            (_("政企直通车"), _("授信金额（万元）"), round(float(total.granted) / 10_000, 1))]  # fmt: skip


def _campaigns(user: Any, start: dt.date, end: dt.date) -> list[Figure]:
    running = list(Campaign.objects.visible_to(user).filter(status=CampaignStatus.RUNNING))
    found = fixed = 0
    for campaign in running:
        tally = campaign_progress(campaign, user=user).total
        found, fixed = found + tally.countable, fixed + tally.fixed
    return [(_("专项治理"), _("进行中的专项"), len(running)), (_("专项治理"), _("发现隐患"), found),
            (_("专项治理"), _("已整改"), fixed)]  # fmt: skip


MODULES = (
    ("deliberation:index", _deliberation),
    ("mediation:index", _mediation),
    ("projects:index", _projects),
    ("enterprise:index", _enterprise),
    ("campaigns:index", _campaigns),
)


def governance_rows(user: Any, start: dt.date, end: dt.date) -> tuple[list[list[Any]], list[str]]:
    """The rows (module, figure, value) and, per row, the module page's URL."""
    open_pages = {page.name for page in pages_for(user)}
    rows: list[list[Any]] = []
    links: list[str] = []
    for page, figures in MODULES:
        if page not in open_pages:
            continue
        url = reverse(f"web:{page}")
        for module, label, value in figures(user, start, end):
            rows.append([module, label, value])
            links.append(url)
    return rows, links
