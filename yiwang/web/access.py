"""Who may open which page: the roles of the signed-in user and the navigation they get.

Pages never decide *which rows* a user sees (that is ``visible_to``); this module only decides
which pages make sense for a role, so that a handler is not offered the dispatcher's queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.cases import workflow
from yiwang.core.scoping import scope_of
from yiwang.people.models import Role, User

LOGIN_URL = "web:login"

R = Role


def roles_of(user: Any) -> frozenset[str]:
    """The user's roles; a superuser (or a district-wide 'everything' scope) has every role."""
    scope = scope_of(user)
    return workflow.ALL_ROLES if scope.everything else scope.roles


@dataclass(frozen=True)
class Page:
    name: str  # URL name in the ``web`` namespace
    label: Promise
    roles: frozenset[str]


PAGES: tuple[Page, ...] = (
    Page("map", _("一图总揽"), frozenset({R.DISPATCHER, R.LEADER, R.ADMINISTRATOR, R.HOTLINE_OPERATOR})),
    Page("queue", _("派遣队列"), frozenset({R.DISPATCHER, R.ADMINISTRATOR, R.LEADER})),
    Page("intake", _("热线受理"), frozenset({R.HOTLINE_OPERATOR, R.DISPATCHER, R.ADMINISTRATOR})),
    Page("inbox", _("承办收件箱"), frozenset({R.DEPARTMENT_HANDLER})),
    Page("phone", _("网格员"), frozenset({R.GRID_WORKER})),
    Page("dashboard", _("统计看板"), frozenset({R.LEADER, R.DISPATCHER, R.ADMINISTRATOR})),
    Page("unsatisfied", _("不满意攻坚"), frozenset({R.LEADER, R.DISPATCHER, R.ADMINISTRATOR})),
    Page("reports", _("统计报表"), frozenset({R.LEADER, R.DISPATCHER, R.ADMINISTRATOR})),
    # Co-governance (issue 9).
    Page("deliberation:index", _("村民议事"), frozenset({R.GRID_WORKER, R.LEADER, R.ADMINISTRATOR})),
    Page("mediation:index", _("矛盾调解"), frozenset({R.MEDIATOR, R.LEADER, R.ADMINISTRATOR})),
    Page("projects:index", _("攻坚项目"), frozenset({R.DEPARTMENT_HANDLER, R.LEADER, R.ADMINISTRATOR})),
    Page(
        "enterprise:index",
        _("政企直通车"),
        frozenset(
            {
                R.ENTERPRISE,
                R.FINANCE_COUNSELLOR,
                R.DEPARTMENT_HANDLER,
                R.DISPATCHER,
                R.LEADER,
                R.ADMINISTRATOR,
            }
        ),
    ),
    Page(
        "campaigns:index", _("专项治理"), frozenset({R.GRID_WORKER, R.DISPATCHER, R.LEADER, R.ADMINISTRATOR})
    ),
)
_BY_NAME = {p.name: p for p in PAGES}


def pages_for(user: Any) -> list[Page]:
    have = roles_of(user)
    return [p for p in PAGES if p.roles & have]


def page_view[View: Callable[..., HttpResponseBase]](name: str) -> Callable[[View], View]:
    """Sign-in required, and the page answers 404 to roles it is not meant for (as out-of-scope
    objects do): a page that would only ever be empty for them is not offered."""
    page = _BY_NAME[name]

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not page.roles & roles_of(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(wrapped, login_url=LOGIN_URL)  # type: ignore[return-value]

    return decorate


def signed_in[View: Callable[..., HttpResponseBase]](view: View) -> View:
    return login_required(view, login_url=LOGIN_URL)


def actor_of(request: HttpRequest) -> User:
    """The signed-in user as the actor of a case action (views using this are sign-in only)."""
    return cast(User, request.user)
