"""Pages of 村民议事 (issue 9): the topics list with statistics, a topic's page with its timeline,
meetings, attendance and votes and the forms of the actions the user's role and the topic's stage
allow, the venues layer of the map, and the public notices (村务公开, no login).

Rows always come through ``visible_to``; writes go through ``governance.deliberation.actions``;
an action's error is shown next to its form (400/403/409) and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yiwang.cases.errors import CaseError, InvalidCaseInput
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.governance.deliberation import actions, queries, workflow
from yiwang.governance.deliberation.errors import DeliberationForbidden, DeliberationNotFound
from yiwang.governance.deliberation.models import (
    Meeting,
    MeetingKind,
    MeetingStatus,
    Topic,
    TopicOrigin,
    TopicStage,
    Venue,
    VoteChoice,
)
from yiwang.grids.models import Division, DivisionLevel
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import attach_error

PAGE = "deliberation:index"
PAGE_SIZE = 50

# --- forms -------------------------------------------------------------------------------------------


class FilterForm(forms.Form):
    stage = forms.ChoiceField(label=_("阶段"), required=False, choices=[("", _("全部")), *TopicStage.choices])
    community = forms.ModelChoiceField(label=_("社区/村"), required=False, queryset=Division.objects.none())


class TopicForm(forms.Form):
    title = forms.CharField(label=_("议题"), max_length=200)
    community = forms.ModelChoiceField(label=_("社区/村"), queryset=Division.objects.none())
    origin = forms.ChoiceField(label=_("来源"), choices=TopicOrigin.choices)
    description = forms.CharField(label=_("内容"), required=False, widget=forms.Textarea)
    raised_by = forms.CharField(label=_("提出人"), required=False, max_length=50)
    source_case = forms.IntegerField(label=_("来源案件编号 (id)"), required=False, min_value=1)
    venue = forms.ModelChoiceField(label=_("议事场所"), required=False, queryset=Venue.objects.none())


def _text_field(label: Any, required: bool) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": 3}))


class ActionForm(forms.Form):
    """The inputs of one topic action (the fields of ``actions.TOPIC_ACTIONS[name]``)."""

    LABELS: dict[str, tuple[Any, bool]] = {
        "proposal": (_("提议内容"), False),
        "note": (_("说明"), False),
        "resolution": (_("决议内容"), True),
        "result": (_("实施结果"), True),
        "reason": (_("原因"), True),
    }

    def __init__(self, name: str, topic: Topic, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "prefix": name})
        for field in actions.TOPIC_ACTIONS[name][1]:
            if field == "meeting_id":
                closed = topic.meetings.filter(
                    kind__in=workflow.MEETING_KINDS[name], status=MeetingStatus.CLOSED
                ).order_by("-held_at")
                self.fields[field] = forms.TypedChoiceField(
                    label=_("依据会议"),
                    coerce=int,
                    required=False,
                    empty_value=None,
                    choices=[("", _("最近一次会议"))]
                    + [(m.pk, f"{m.get_kind_display()} {m.held_at:%Y-%m-%d}") for m in closed],
                )
            else:
                label, required = self.LABELS[field]
                self.fields[field] = _text_field(label, required)


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("会议类型"), choices=MeetingKind.choices)
    held_at = forms.DateTimeField(
        label=_("召开时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    eligible = forms.IntegerField(label=_("应到人数"), min_value=1)
    venue = forms.ModelChoiceField(label=_("地点"), required=False, queryset=Venue.objects.none())


class AttendeeForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    resident_id = forms.IntegerField(label=_("实有人口编号 (可选)"), required=False, min_value=1)
    title = forms.CharField(label=_("职务"), max_length=50, required=False)
    is_official = forms.BooleanField(label=_("两委成员"), required=False)
    is_party_member = forms.BooleanField(label=_("党员"), required=False)
    is_representative = forms.BooleanField(label=_("村民代表"), required=False)


class VoteForm(forms.Form):
    attendance_id = forms.TypedChoiceField(label=_("表决人"), coerce=int, choices=())
    choice = forms.ChoiceField(label=_("表决意见"), choices=VoteChoice.choices)

    def __init__(self, meeting: Meeting, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        voters = [a for a in meeting.attendances.filter(vote__isnull=True) if a.votes_at(meeting.voter_flag)]
        self.fields["attendance_id"].choices = [(a.pk, a.name) for a in voters]  # type: ignore[attr-defined]


class CloseForm(forms.Form):
    minutes = forms.CharField(label=_("会议记录"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class LinkForm(forms.Form):
    case_id = forms.IntegerField(label=_("落实案件编号 (id)"), min_value=1)


# --- helpers -----------------------------------------------------------------------------------------


def _set_queryset(form: forms.Form, name: str, queryset: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _topic_for(request: HttpRequest, pk: int) -> Topic:
    queryset = Topic.objects.visible_to(request.user).select_related(
        "community", "venue", "source_case", "submitted_by"
    )
    topic: Topic = get_object_or_404_in_scope(queryset, pk=pk)
    return topic


def _meeting_for(request: HttpRequest, pk: int) -> Meeting:
    meeting: Meeting = get_object_or_404_in_scope(Meeting.objects.visible_to(request.user), pk=pk)
    return meeting


def _communities(request: HttpRequest) -> Any:
    return Division.objects.visible_to(request.user).filter(level=DivisionLevel.COMMUNITY).order_by("code")


def _status_of(error: CaseError) -> int:
    if isinstance(error, InvalidCaseInput):
        return 400
    if isinstance(error, DeliberationForbidden):
        return 403
    return 409


def _can_run_meetings(request: HttpRequest) -> bool:
    return bool(workflow.MEETING_ROLES & actions.roles_of(actor_of(request)))


def _meeting_kinds(topic: Topic) -> list[tuple[str, str]]:
    return [(k.value, str(k.label)) for k in MeetingKind if workflow.meeting_stage(k.value) == topic.stage]


def _render_topic(
    request: HttpRequest, topic: Topic, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    bound = bound or {}
    roles = actions.roles_of(actor_of(request))
    can_run = _can_run_meetings(request)
    action_forms = [
        {"transition": t, "form": bound.get(f"action:{t.name}") or ActionForm(t.name, topic)}
        for t in workflow.allowed(topic.stage, roles)
        if t.name != "submit"
    ]
    meetings = []
    for meeting in topic.meetings.select_related("venue").prefetch_related("attendances__vote"):
        is_open = meeting.status == MeetingStatus.OPEN and can_run
        meetings.append(
            {
                "meeting": meeting,
                "quorum_text": actions.quorum_text(meeting),
                "pass_text": actions.pass_text(meeting),
                "live": actions.outcome(meeting) if meeting.status == MeetingStatus.OPEN else None,
                "attendee_form": (
                    bound.get(f"attendee:{meeting.pk}") or AttendeeForm(prefix=f"a{meeting.pk}")
                )
                if is_open
                else None,
                "vote_form": (bound.get(f"vote:{meeting.pk}") or VoteForm(meeting, prefix=f"v{meeting.pk}"))
                if is_open
                else None,
                "close_form": (bound.get(f"close:{meeting.pk}") or CloseForm(prefix=f"c{meeting.pk}"))
                if is_open
                else None,
            }
        )
    kinds = _meeting_kinds(topic)
    meeting_form = None
    if can_run and kinds and not topic.meetings.filter(status=MeetingStatus.OPEN).exists():
        meeting_form = bound.get("meeting") or MeetingForm(prefix="m")
        meeting_form.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        _set_queryset(
            meeting_form, "venue", Venue.objects.visible_to(request.user).filter(community=topic.community)
        )
    link_form = None
    if topic.stage in workflow.LINK_STAGES and workflow.LINK_ROLES & roles:
        link_form = bound.get("link") or LinkForm(prefix="l")
    context = {
        "topic": topic,
        "events": topic.events.select_related("actor", "meeting").order_by("at", "id"),
        "meetings": meetings,
        "action_forms": action_forms,
        "meeting_form": meeting_form,
        "link_form": link_form,
        "links": topic.links.all(),
        "is_public": topic.stage in (TopicStage.RESOLUTION_PUBLISHED, TopicStage.RESULT_PUBLISHED),
    }
    return render(request, "web/gov/deliberation/topic.html", context, status=status)


def _run(request: HttpRequest, topic: Topic, key: str, form: forms.Form, call: Any) -> HttpResponse:
    """Run ``call`` (an action) and redirect to the topic; its error goes next to ``form``."""
    try:
        call()
    except DeliberationNotFound:
        raise Http404 from None
    except CaseError as error:
        attach_error(form, error)
        return _render_topic(
            request, _topic_for(request, topic.pk), bound={key: form}, status=_status_of(error)
        )
    messages.success(request, gettext("已保存"))
    return redirect("web:deliberation:topic", pk=topic.pk)


# --- staff pages -------------------------------------------------------------------------------------


@page_view(PAGE)
def index(request: HttpRequest) -> HttpResponse:
    """The topics in the user's area, filtered by stage and community, with the statistics."""
    filters = FilterForm(request.GET or None)
    _set_queryset(filters, "community", _communities(request))
    topics = Topic.objects.visible_to(request.user).select_related("community", "venue")
    if filters.is_valid():
        if filters.cleaned_data["stage"]:
            topics = topics.filter(stage=filters.cleaned_data["stage"])
        if filters.cleaned_data["community"] is not None:
            topics = topics.filter(community=filters.cleaned_data["community"])
    page = Paginator(topics.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    new_form = None
    if workflow.TRANSITIONS["submit"].roles & actions.roles_of(actor_of(request)):
        new_form = _topic_form(request)
    context = {"filter": filters, "page": page, "stats": queries.stats(request.user), "new_form": new_form}
    return render(request, "web/gov/deliberation/index.html", context)


def _topic_form(request: HttpRequest, data: Any = None) -> TopicForm:
    form = TopicForm(data, prefix="t")
    _set_queryset(form, "community", _communities(request))
    _set_queryset(form, "venue", Venue.objects.visible_to(request.user))
    return form


@page_view(PAGE)
@require_POST
def topic_new(request: HttpRequest) -> HttpResponse:
    form = _topic_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            topic = actions.submit_topic(
                actor=actor_of(request),
                title=data["title"],
                community=data["community"],
                origin=data["origin"],
                description=data["description"],
                raised_by=data["raised_by"],
                source_case=data["source_case"],
                venue=data["venue"],
            )
        except CaseError as error:
            attach_error(form, error)
        else:
            messages.success(request, gettext("议题已登记"))
            return redirect("web:deliberation:topic", pk=topic.pk)
    filters = FilterForm()
    _set_queryset(filters, "community", _communities(request))
    page = Paginator(
        Topic.objects.visible_to(request.user).order_by("-created_at", "-id"), PAGE_SIZE
    ).get_page(1)
    context = {"filter": filters, "page": page, "stats": queries.stats(request.user), "new_form": form}
    return render(request, "web/gov/deliberation/index.html", context, status=400)


@page_view(PAGE)
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_topic(request, _topic_for(request, pk))


@page_view(PAGE)
@require_POST
def topic_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    topic = _topic_for(request, pk)
    if name not in actions.TOPIC_ACTIONS:
        raise Http404
    form = ActionForm(name, topic, request.POST)
    if not form.is_valid():
        return _render_topic(request, topic, bound={f"action:{name}": form}, status=400)
    data = form.cleaned_data
    return _run(
        request,
        topic,
        f"action:{name}",
        form,
        lambda: actions.take(name, topic.pk, actor=actor_of(request), **data),
    )


@page_view(PAGE)
@require_POST
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    topic = _topic_for(request, pk)
    form = MeetingForm(request.POST, prefix="m")
    form.fields["kind"].choices = _meeting_kinds(topic) or MeetingKind.choices  # type: ignore[attr-defined]
    _set_queryset(form, "venue", Venue.objects.visible_to(request.user).filter(community=topic.community))
    if not form.is_valid():
        return _render_topic(request, topic, bound={"meeting": form}, status=400)
    data = form.cleaned_data
    return _run(
        request,
        topic,
        "meeting",
        form,
        lambda: actions.schedule_meeting(
            topic.pk,
            actor=actor_of(request),
            kind=data["kind"],
            held_at=data["held_at"],
            eligible=data["eligible"],
            venue=data["venue"],
        ),
    )


@page_view(PAGE)
@require_POST
def meeting_attendee(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    form = AttendeeForm(request.POST, prefix=f"a{pk}")
    key = f"attendee:{pk}"
    if not form.is_valid():
        return _render_topic(request, _topic_for(request, meeting.topic_id), bound={key: form}, status=400)
    data = form.cleaned_data
    return _run(
        request,
        meeting.topic,
        key,
        form,
        lambda: actions.add_attendee(meeting.pk, actor=actor_of(request), **data),
    )


@page_view(PAGE)
@require_POST
def meeting_vote(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    form = VoteForm(meeting, request.POST, prefix=f"v{pk}")
    key = f"vote:{pk}"
    # The choices list only who may still vote; an id outside it goes to the action, whose message
    # says why (not present, no vote, voted already).
    raw = request.POST.get(f"v{pk}-attendance_id", "")
    choice = request.POST.get(f"v{pk}-choice", "")
    try:
        attendance_id = int(raw)
    except ValueError:
        form.is_valid()
        return _render_topic(request, _topic_for(request, meeting.topic_id), bound={key: form}, status=400)
    return _run(
        request,
        meeting.topic,
        key,
        form,
        lambda: actions.cast_vote(
            meeting.pk, actor=actor_of(request), attendance_id=attendance_id, choice=choice
        ),
    )


@page_view(PAGE)
@require_POST
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    form = CloseForm(request.POST, prefix=f"c{pk}")
    form.is_valid()
    minutes = form.cleaned_data.get("minutes", "")
    return _run(
        request,
        meeting.topic,
        f"close:{pk}",
        form,
        lambda: actions.close_meeting(meeting.pk, actor=actor_of(request), minutes=minutes),
    )


@page_view(PAGE)
@require_POST
def topic_link(request: HttpRequest, pk: int) -> HttpResponse:
    topic = _topic_for(request, pk)
    form = LinkForm(request.POST, prefix="l")
    if not form.is_valid():
        return _render_topic(request, topic, bound={"link": form}, status=400)
    case_id = form.cleaned_data["case_id"]
    return _run(
        request,
        topic,
        "link",
        form,
        lambda: actions.link_case(topic.pk, actor=actor_of(request), case_id=case_id),
    )


@page_view(PAGE)
def venues_geojson(request: HttpRequest) -> JsonResponse:
    """The venues layer of the map (GeoJSON, WGS84), scoped, with topic counts per venue."""
    return JsonResponse(queries.venues_geojson(request.user))


# --- public notices (村务公开): no login ---------------------------------------------------------------


def notices(request: HttpRequest) -> HttpResponse:
    """Published resolutions and results; open to everyone, with no personal data."""
    page = Paginator(queries.public_topics(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/gov/deliberation/notices.html", {"page": page})


def notice(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(queries.public_topics(), pk=pk)
    return render(request, "web/gov/deliberation/notice.html", queries.public_notice(topic))


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
    path("topics/new/", topic_new, name="topic_new"),
    path("topics/<int:pk>/", topic_detail, name="topic"),
    path("topics/<int:pk>/actions/<str:name>/", topic_action, name="topic_action"),
    path("topics/<int:pk>/meetings/", meeting_new, name="meeting_new"),
    path("topics/<int:pk>/links/", topic_link, name="topic_link"),
    path("meetings/<int:pk>/attendance/", meeting_attendee, name="meeting_attendee"),
    path("meetings/<int:pk>/votes/", meeting_vote, name="meeting_vote"),
    path("meetings/<int:pk>/close/", meeting_close, name="meeting_close"),
    path("venues.geojson", venues_geojson, name="venues_geojson"),
    path("notices/", notices, name="notices"),
    path("notices/<int:pk>/", notice, name="notice"),
]
