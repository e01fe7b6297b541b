"""The demo's case history: a run of days of cases with realistic timelines, built by the real actions.

Every case is a small script (a Python generator, :func:`_life`) that yields the actions it wants to
take and when; :func:`build_cases` runs all scripts in one global time order (a heap), so that a
merge finds its target still open, the SLA scan (every :data:`SCAN_EVERY`) sees the clocks as they
were, and every write goes through ``cases.actions`` with the persona who would do it and an
explicit ``at``. A script whose next step lies after *now* simply stops there, which leaves the last
days' cases open at every stage (the queue, the inboxes and the overdue list have content).

Each case draws from its own ``random.Random(f"{seed}:cases:{day}:{n}")``: the same seed and the
same *now* give the same history.

Speed: the actions cost ~3–4 ms each on SQLite (ORM overhead), ~7 actions a case, so a full year at
200 a day takes tens of minutes; ``yiwang demo`` builds :data:`DEFAULT_DAYS` days at once and queues
the rest of the year for the background worker (``yiwang.demo.tasks``) unless ``--days`` says
otherwise.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from yiwang.cases import actions as A
from yiwang.cases import sla
from yiwang.cases.choices import CaseStatus, Satisfaction
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case, CaseEvent, CaseNumberCounter, Category
from yiwang.core.calendar import TZ, get_calendar
from yiwang.demo import case_texts as T
from yiwang.grids.models import Division, DivisionLevel, Grid, GridStaff, GridStaffRole
from yiwang.people.models import Department, DepartmentKind, Grant, Role, User

DEFAULT_DAYS = 10  # built at once (fits `make run`); the rest of the year: yiwang.demo.tasks
PER_DAY = 200  # cases a day at scale 1
SCAN_EVERY = dt.timedelta(hours=4)
DEMO_STREET = "370211005000"
STAFF_PREFIX = "staff_"  # history-only handlers (one per department without a demo login)
GRID_PREFIX = "grid_"  # history-only grid workers (one per community)

CHANNEL_MIX = {
    T.HOTLINE: 0.60,
    T.PATROL: 0.15,
    T.WEB: 0.07,
    T.SENSOR: 0.05,
    T.POLICE: 0.04,
    T.OPEN311: 0.03,
    T.ENTERPRISE: 0.03,
    T.MEDIA: 0.02,
    T.LEADER: 0.01,
}
# Relative intake per hour of the day (Beijing time): quiet nights, a morning peak, an afternoon one.
HOURLY = (1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 4, 8, 10, 10, 8, 5, 6, 8, 8, 7, 6, 5, 5, 4, 3, 2, 1.5)
WEEKDAY = (1.2, 1.1, 1.05, 1.05, 1.0, 0.75, 0.7)  # Monday first
CALLBACK_CHANNELS = frozenset({T.HOTLINE, T.WEB, T.OPEN311, T.POLICE, T.ENTERPRISE, T.MEDIA, T.LEADER})
PUBLIC = frozenset(A.PUBLIC_CHANNELS)


# --- the cast ----------------------------------------------------------------------------------------
@dataclass
class Cast:
    """Who does what in the history, and the lookups the scripts need."""

    operator: User
    dispatcher: User
    street_dispatcher: User
    leader: User
    handlers: dict[int, User]  # department pk → a handler whose department subtree holds it
    grid_workers: dict[int, User]  # community pk → the community's grid worker
    departments: dict[str, Department]
    street_office: dict[int, Department]  # street division pk → office
    committee: dict[int, Department]  # community division pk → committee
    demo_street_id: int | None


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _history_staff(departments: dict[str, Department]) -> tuple[dict[int, User], dict[int, User]]:
    """One handler per bureau, company and street office without a demo login, and one grid worker per
    community (posted to its grids), written in bulk like the demo users. They cannot log in."""
    handlers: dict[int, User] = {}
    for username in ("handler_cg", "handler_water", "handler_cjl"):
        user = User.objects.filter(username=username).first()
        if user is not None and user.department_id is not None:
            handlers[user.department_id] = user
    kinds = (DepartmentKind.FUNCTIONAL, DepartmentKind.PUBLIC_SERVICE, DepartmentKind.STREET)
    # A background backfill of an older window finds these users already made: create only what is missing.
    existing = {u.department_id: u for u in User.objects.filter(username__startswith=STAFF_PREFIX)}
    wanted = [
        d for d in departments.values() if d.kind in kinds and d.pk not in handlers and d.pk not in existing
    ]
    new = User.objects.bulk_create(
        [
            User(
                username=f"{STAFF_PREFIX}{d.code.lower()}",
                display_name=f"{d.short_name or d.name}承办人",
                password=make_password(None),
                department=d,
            )
            for d in wanted
        ]
    )
    made = {
        u.department_id: u for u in User.objects.filter(username__startswith=STAFF_PREFIX) if u.department_id
    }
    Grant.objects.bulk_create(
        [Grant(user=u, role=Role.DEPARTMENT_HANDLER, department_id=u.department_id) for u in new]
    )
    handlers.update(made)
    # Community committees are handled by their street office's handler (社区工作站 under the street).
    for d in departments.values():
        if d.kind == DepartmentKind.COMMUNITY and d.parent_id in handlers:
            handlers[d.pk] = handlers[d.parent_id]

    demo_workers = {
        gs.grid.community_id: gs.user
        for gs in GridStaff.objects.filter(user__username__startswith="gridworker").select_related(
            "grid", "user"
        )
    }
    communities = [
        c
        for c in Division.objects.filter(level=DivisionLevel.COMMUNITY).order_by("code")
        if c.pk not in demo_workers
    ]
    workers = {
        u.username[len(GRID_PREFIX) :]: u for u in User.objects.filter(username__startswith=GRID_PREFIX)
    }
    missing = [c for c in communities if c.code not in workers]
    User.objects.bulk_create(
        [
            User(
                username=f"{GRID_PREFIX}{c.code}",
                display_name=f"{c.name}网格员",
                password=make_password(None),
            )
            for c in missing
        ]
    )
    workers = {
        u.username[len(GRID_PREFIX) :]: u for u in User.objects.filter(username__startswith=GRID_PREFIX)
    }
    by_code = {c.code: c for c in communities}
    Grant.objects.bulk_create(
        [Grant(user=workers[c.code], role=Role.GRID_WORKER, division=c) for c in missing]
    )
    grids = Grid.objects.filter(community__in=missing).values_list("pk", "community__code")
    GridStaff.objects.bulk_create(
        [GridStaff(user=workers[code], grid_id=pk, role=GridStaffRole.FULL_TIME) for pk, code in grids],
        batch_size=500,
    )
    grid_workers = {by_code[code].pk: u for code, u in workers.items()}
    grid_workers.update(demo_workers)
    return handlers, grid_workers


def _cast(departments: dict[str, Department]) -> Cast:
    if not departments:
        departments = {d.code: d for d in Department.objects.all()}
    handlers, grid_workers = _history_staff(departments)
    street = Division.objects.filter(code=DEMO_STREET).values_list("pk", flat=True).first()
    return Cast(
        operator=_user("operator"),
        dispatcher=_user("dispatcher"),
        street_dispatcher=_user("dispatcher_cjl"),
        leader=_user("leader"),
        handlers=handlers,
        grid_workers=grid_workers,
        departments=departments,
        street_office={
            d.division_id: d
            for d in departments.values()
            if d.kind == DepartmentKind.STREET and d.division_id
        },
        committee={
            d.division_id: d
            for d in departments.values()
            if d.kind == DepartmentKind.COMMUNITY and d.division_id
        },
        demo_street_id=street,
    )


# --- places ------------------------------------------------------------------------------------------
@dataclass
class Place:
    lng: float
    lat: float
    grid_id: int
    community_id: int
    street_id: int
    address: str


class Places:
    """Random points inside grids (weighted by population), with a made-up street address."""

    def __init__(self) -> None:
        rows = list(
            Grid.objects.filter(kind="basic")
            .order_by("code")
            .values_list(
                "pk",
                "boundary",
                "population",
                "community_id",
                "community__street_id",
                "community__name",
                "community__street__name",
            )
        )
        if not rows:
            rows = list(
                Grid.objects.order_by("code").values_list(
                    "pk",
                    "boundary",
                    "population",
                    "community_id",
                    "community__street_id",
                    "community__name",
                    "community__street__name",
                )
            )
        self.rows = rows
        self.cum = list(itertools.accumulate(max(1, r[2]) for r in rows))
        self._shapes: dict[int, shapely.Geometry] = {}

    def _shape(self, i: int) -> shapely.Geometry:
        shape = self._shapes.get(i)
        if shape is None:
            shape = shapely.from_geojson(_json(self.rows[i][1]))
            shapely.prepare(shape)
            self._shapes[i] = shape
        return shape

    def pick(self, rng: random.Random) -> Place:
        i = rng.choices(range(len(self.rows)), cum_weights=self.cum)[0]
        pk, _b, _p, community_id, street_id, community, street = self.rows[i]
        shape = self._shape(i)
        minx, miny, maxx, maxy = shape.bounds
        for _ in range(30):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(shape, x, y):
                break
        else:
            point = shape.representative_point()
            x, y = point.x, point.y
        road = rng.choice(T.ROADS) + rng.choice(T.ROAD_SUFFIX)
        address = f"{street}{community}{road}{rng.randint(1, 399)}号{rng.choice(T.BUILDING)}"
        return Place(round(x, 6), round(y, 6), pk, community_id, street_id or 0, address)


def _json(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


# --- topics ------------------------------------------------------------------------------------------
@dataclass
class Topics:
    """The templates matched to the loaded category tree; topics whose category is missing are dropped."""

    topics: list[tuple[T.Topic, Category]] = field(default_factory=list)

    @classmethod
    def load(cls) -> Topics:
        cats = list(Category.objects.filter(is_active=True).select_related("parent__parent"))
        by_key: dict[str, Category] = {}
        for c in cats:
            if c.kind in ("matter", "component"):
                by_key[f"{'SX' if c.kind == 'matter' else 'BJ'}:{c.name}"] = c
            elif c.parent is not None and c.parent.parent is not None:
                by_key[f"DM:{c.parent.parent.name}/{c.parent.name}/{c.name}"] = c
        return cls([(t, by_key[t.category]) for t in T.TOPICS if t.category in by_key])

    def pick(self, rng: random.Random, channel: str, month: int) -> tuple[T.Topic, Category]:
        pool = [(t, c) for t, c in self.topics if channel in t.channels] or self.topics
        weights = [t.weight * (1.0 if not t.months else 3.0 if month in t.months else 0.15) for t, _c in pool]
        return rng.choices(pool, weights=weights)[0]


# --- one case's script ------------------------------------------------------------------------------
@dataclass
class Act:
    at: dt.datetime
    run: Callable[..., Any]
    kwargs: dict[str, Any]
    guard: Callable[[], bool] | None = None  # checked when the act is due; False: skipped (None sent back)


Script = Generator[Act, Any, None]


@dataclass
class Spec:
    day: dt.date
    n: int
    at: dt.datetime
    channel: str


@dataclass
class World:
    """Shared state of a run: what the scripts need to know about each other."""

    cast: Cast
    places: Places
    topics: Topics
    now: dt.datetime
    seed: int
    open_cases: deque[tuple[int, str, Place | None, dt.datetime]] = field(
        default_factory=lambda: deque(maxlen=400)
    )
    status: dict[int, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _later(
    rng: random.Random, t: dt.datetime, lo_min: float, hi_min: float, *, day_only: bool = True
) -> dt.datetime:
    """``t`` plus a random delay; with ``day_only`` a moment in the night moves to the next morning."""
    out = t + dt.timedelta(minutes=rng.uniform(lo_min, hi_min))
    if day_only:
        local = out.astimezone(TZ)
        if local.hour < 8 or local.hour >= 20:
            morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
            if local.hour >= 20:
                morning += dt.timedelta(days=1)
            out = morning + dt.timedelta(minutes=rng.uniform(0, 90))
    return out


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime, lo: float, hi: float) -> dt.datetime:
    """A daytime moment at a random share (lo..hi) of the way from ``start`` to ``end``."""
    share = rng.uniform(lo, hi)
    return _later(rng, start + (end - start) * share, 1, 20)


def _dept(ref: str, cast: Cast, place: Place | None) -> Department | None:
    if ref == "street":
        return cast.street_office.get(place.street_id) if place else None
    if ref == "community":
        return cast.committee.get(place.community_id) if place else None
    return cast.departments.get(ref)


def _pick_lead(rng: random.Random, topic: T.Topic, cast: Cast, place: Place | None) -> Department:
    options = [
        d for d in (_dept(r, cast, place) for r in topic.leads) if d is not None and d.pk in cast.handlers
    ]
    if not options:
        return cast.departments["CG"]
    weights = [0.6, 0.25, 0.15][: len(options)]
    return rng.choices(options, weights=weights)[0]


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def _compose(
    rng: random.Random, topic: T.Topic, channel: str, place: Place | None, consult: bool
) -> tuple[str, str]:
    where = place.address if place else "本区"
    fill = {"place": where, "n": rng.randint(1, 6)}
    title = rng.choice(topic.titles).format(**fill)
    intro = rng.choice(T.CONSULT_INTRO if consult and channel == T.HOTLINE else T.INTRO[channel])
    problem = rng.choice(topic.problems).format(**fill)
    tail = "" if consult else rng.choice(T.DURATION) + rng.choice(T.REQUEST)
    body = f"{intro}{problem}。{tail}".replace("。。", "。").replace("，。", "。")
    return title, body


def _life(spec: Spec, w: World) -> Script:  # one readable script beats many fragments
    rng = random.Random(f"{w.seed}:cases:{spec.day.isoformat()}:{spec.n}")
    cast, t = w.cast, spec.at
    channel = spec.channel
    # A duplicate of a recent open case: same topic and place, merged by the dispatcher.
    duplicate_of = None
    if channel in (T.HOTLINE, T.WEB) and w.open_cases and rng.random() < 0.03:
        duplicate_of = rng.choice(list(w.open_cases)[-100:])
    topic, category = w.topics.pick(rng, channel, t.astimezone(TZ).month)
    place: Place | None = (
        w.places.pick(rng) if (channel not in CITIZEN_NO_PLACE or rng.random() < 0.8) else None
    )
    if duplicate_of is not None:
        key, dup_place = duplicate_of[1], duplicate_of[2]
        topic, category = next(((tp, c) for tp, c in w.topics.topics if tp.key == key), (topic, category))
        place = dup_place
    consult = category.demand_kind == "consultation"
    if consult and channel in (T.HOTLINE, T.WEB) and rng.random() < 0.8:
        place = None  # a question by phone has no place
    title, description = _compose(rng, topic, channel, place, consult)
    anonymous = channel in (T.HOTLINE, T.WEB) and rng.random() < 0.05
    fields: dict[str, Any] = {
        "channel": channel,
        "category": category,
        "title": title,
        "description": description,
        "address": place.address if place else "",
        "lng": place.lng if place else None,
        "lat": place.lat if place else None,
        "is_anonymous": anonymous,
    }
    if topic.urgency:
        fields["urgency"] = topic.urgency
    if channel in (T.LEADER, T.MEDIA) and rng.random() < 0.4:
        fields["urgency"] = "urgent"
    if channel in CALLBACK_CHANNELS and not anonymous:
        fields["reporter_name"] = rng.choice(_SURNAMES) + rng.choice(("先生", "女士"))
        fields["reporter_phone"] = _phone(rng)
    creator: User | None
    if channel == T.PATROL:
        creator = cast.grid_workers.get(place.community_id) if place else None
        creator = creator or next(iter(cast.grid_workers.values()))
    elif channel in PUBLIC:
        creator = None
    elif channel == T.LEADER:
        creator = cast.dispatcher
        fields["note"] = "区领导交办件"
    else:
        creator = cast.operator
    if channel == T.POLICE:
        incident = f"J{spec.day:%Y%m%d}{spec.n:05d}"
        fields.pop("channel")
        receipt = yield Act(t, A.receive_from_110, {"actor": creator, "incident_number": incident, **fields})
        case = Case.objects.get(pk=receipt.case_id)
        w.status[case.pk] = case.status
    else:
        case = yield Act(t, A.create_case, {"actor": creator, **fields})
    pk = case.pk
    dispatcher = (
        cast.street_dispatcher
        if place and place.street_id == cast.demo_street_id and rng.random() < 0.6
        else cast.dispatcher
    )

    # --- at intake: merge, void, transfer, answer ---------------------------------------------------------
    if duplicate_of is not None:
        target = duplicate_of[0]
        t = _later(rng, t, 10, 180)
        merged = yield Act(
            t,
            A.merge_cases,
            {"case_id": pk, "actor": cast.dispatcher, "into": target, "note": T.MERGE_NOTE},
            guard=lambda: w.status.get(target) in _MERGEABLE,
        )
        if merged is not None:
            return
    if channel in (T.HOTLINE, T.WEB) and rng.random() < 0.015:
        yield Act(
            _later(rng, t, 5, 120),
            A.invalidate,
            {"case_id": pk, "actor": cast.dispatcher, "reason": rng.choice(T.INVALID_REASONS)},
        )
        return
    if topic.police_matter and rng.random() < 0.85:
        receipt_no = f"110-{spec.day:%y%m%d}{spec.n:04d}"
        yield Act(
            t + dt.timedelta(minutes=rng.uniform(1, 8)),
            A.transfer_to_110,
            {"case_id": pk, "actor": cast.operator, "receipt_number": receipt_no, "note": T.TRANSFER_NOTE},
        )
        return
    if consult and topic.answers and rng.random() < 0.75:
        yield Act(
            t + dt.timedelta(minutes=rng.uniform(2, 12)),
            A.answer_directly,
            {"case_id": pk, "actor": cast.operator, "answer": rng.choice(topic.answers)},
        )
        return
    w.open_cases.append((pk, topic.key, place, t))

    # --- dispatch (sometimes to the wrong unit first, who returns it) ---------------------------------
    lead = _pick_lead(rng, topic, cast, place)
    assist = [d for d in (_dept(r, cast, place) for r in topic.assist) if d is not None and d.pk != lead.pk]
    assist = assist if rng.random() < 0.3 else []
    t = _later(rng, t, 10, 150)
    if rng.random() < 0.06:
        wrong = rng.choice([d for code, d in cast.departments.items() if code in _WRONG and d.pk != lead.pk])
        yield Act(t, A.dispatch_case, {"case_id": pk, "actor": dispatcher, "lead": wrong})
        t = _later(rng, t, 30, 600)
        reason = rng.choice(T.RETURN_REASONS).format(dept=lead.short_name or lead.name)
        yield Act(t, A.return_case, {"case_id": pk, "actor": cast.handlers[wrong.pk], "reason": reason})
        t = _later(rng, t, 15, 120)
    case = yield Act(
        t,
        A.dispatch_case,
        {
            "case_id": pk,
            "actor": dispatcher,
            "lead": lead,
            "assisting": assist,
            "note": rng.choice(T.DISPATCH_NOTES),
        },
    )
    handler = cast.handlers[lead.pk]
    callback = channel in CALLBACK_CHANNELS and not anonymous
    verifier = creator if channel == T.PATROL and creator is not None else dispatcher
    for round_no in range(3):
        done = yield from _handle(rng, w, case, pk, t, handler, dispatcher, verifier, topic, lead)
        if done is None:
            return
        case, t = done
        if not callback:
            return
        # --- call-back: 满意 / 基本满意 / 不满意 (about 75 / 15 / 10 %), most 不满意 reopened ----------
        t = _later(rng, t, 600, 3 * 1440)
        caller = (
            cast.operator
            if (not case.is_confidential or case.created_by_id == cast.operator.pk)
            else dispatcher
        )
        contacted = rng.random() < 0.95
        unhappy = 0.10 if round_no == 0 else 0.05
        roll = rng.random()
        satisfaction = (
            None
            if not contacted
            else Satisfaction.UNSATISFIED
            if roll < unhappy
            else Satisfaction.BASICALLY_SATISFIED
            if roll < unhappy + 0.15
            else Satisfaction.SATISFIED
        )
        note = rng.choice(T.CALLBACK_NOTES[str(satisfaction)]) if satisfaction else T.UNREACHED_NOTE
        case = yield Act(
            t,
            A.record_callback,
            {
                "case_id": pk,
                "actor": caller,
                "contacted": contacted,
                "solved": satisfaction != Satisfaction.UNSATISFIED,
                "satisfaction": satisfaction,
                "note": note,
            },
        )
        if satisfaction != Satisfaction.UNSATISFIED or rng.random() < 0.2:
            return
        t = _later(rng, t, 30, 1440)
        case = yield Act(
            t, A.reopen_case, {"case_id": pk, "actor": cast.dispatcher, "note": rng.choice(T.REOPEN_NOTES)}
        )


def _handle(
    rng: random.Random,
    w: World,
    case: Case,
    pk: int,
    t: dt.datetime,
    handler: User,
    dispatcher: User,
    verifier: User,
    topic: T.Topic,
    lead: Department,
) -> Generator[Act, Any, tuple[Case, dt.datetime] | None]:
    """Sign, maybe suspend / extend / get urged and supervised, resolve, verify (maybe rework).
    Returns the closed case and the time, or None when the script ends early."""
    start, due = t, case.accept_due_at or t + dt.timedelta(hours=24)
    late_sign = rng.random() < 0.04
    t = _between(rng, start, due, 1.05, 2.0) if late_sign else _between(rng, start, due, 0.02, 0.4)
    case = yield Act(t, A.sign_case, {"case_id": pk, "actor": handler})
    if rng.random() < 0.01:
        t = _later(rng, t, 600, 4 * 1440)
        yield Act(
            t, A.suspend_case, {"case_id": pk, "actor": dispatcher, "reason": rng.choice(T.SUSPEND_REASONS)}
        )
        t = _later(rng, t, 3 * 1440, 20 * 1440)
        case = yield Act(
            t, A.resume_case, {"case_id": pk, "actor": dispatcher, "note": rng.choice(T.RESUME_NOTES)}
        )
    signed = case.resolve_started_at or t
    due = case.resolve_due_at or t + dt.timedelta(days=7)
    roll = rng.random()
    # How long the work takes, as a share of the resolution window: most on time, some late, a few stuck.
    share = (
        rng.uniform(1.05, 1.9)
        if roll < 0.07
        else rng.uniform(2.5, 6)
        if roll < 0.09
        else rng.uniform(0.1, 0.85)
    )
    if share > 0.85 and rng.random() < 0.5:  # asks for more time
        t = _between(rng, signed, due, 0.4, 0.7)
        amount = (
            rng.choice((3, 5, 7)) if (case.resolve_unit or "days").endswith("days") else rng.choice((12, 24))
        )
        yield Act(
            t,
            A.request_extension,
            {"case_id": pk, "actor": handler, "reason": rng.choice(T.EXTENSION_REASONS), "amount": amount},
        )
        t = _later(rng, t, 20, 480)
        if rng.random() < 0.75:
            case = yield Act(t, A.approve_extension, {"case_id": pk, "actor": dispatcher, "note": "同意延期"})
            due = case.resolve_due_at or due
            share = min(share, rng.uniform(0.6, 1.2))
        else:
            case = yield Act(
                t,
                A.reject_extension,
                {"case_id": pk, "actor": dispatcher, "reason": rng.choice(T.EXTENSION_REJECT)},
            )
    finish = _between(rng, signed, due, share, share)
    if rng.random() < 0.3:
        t = _between(rng, t, min(finish, due), 0.3, 0.7)
        yield Act(
            max(t, signed),
            A.report_progress,
            {"case_id": pk, "actor": handler, "note": rng.choice(T.PROGRESS_NOTES)},
        )
    if finish > signed + (due - signed) * 0.8:  # slow: urged, and supervised once overdue
        t = _between(rng, signed, due, 0.8, 0.95)
        yield Act(t, A.urge_case, {"case_id": pk, "actor": dispatcher, "note": rng.choice(T.URGE_NOTES)})
        if finish > due:
            t = _later(rng, due, 60, 1440)
            if t < finish:
                leader = w.cast.leader if rng.random() < 0.3 else dispatcher
                level = rng.choice((2, 3)) if leader is w.cast.leader else 1
                yield Act(
                    t,
                    A.supervise_case,
                    {"case_id": pk, "actor": leader, "level": level, "note": rng.choice(T.SUPERVISE_NOTES)},
                )
    for attempt in range(2):
        result = rng.choice(topic.results).format(n=rng.randint(1, 6), place="现场")
        case = yield Act(finish, A.resolve_case, {"case_id": pk, "actor": handler, "result": result})
        t = _later(rng, finish, 60, 1440)
        passed = attempt == 1 or rng.random() >= 0.06
        note = "" if passed else rng.choice(T.VERIFY_FAIL)
        case = yield Act(t, A.verify_case, {"case_id": pk, "actor": verifier, "passed": passed, "note": note})
        if passed:
            return case, t
        finish = _later(rng, t, 600, 3 * 1440)
    return None


CITIZEN_NO_PLACE = frozenset({T.HOTLINE, T.WEB, T.ENTERPRISE, T.LEADER, T.MEDIA})
_MERGEABLE = frozenset({CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS})
_WRONG = ("CG", "ZJ", "JT", "SW", "HB", "SJ", "GA", "MZ", "RS")
_SURNAMES = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶逄臧隋宫纪管辛丛"
)


# --- the day plan and the driver ----------------------------------------------------------------------
def _day_specs(rng: random.Random, day: dt.date, per_day: float) -> list[Spec]:
    """The intakes of one day: volume by weekday and holiday, hour by channel."""
    cal = get_calendar()
    factor = WEEKDAY[day.weekday()] * (1.0 if cal.is_workday(day) or day.weekday() >= 5 else 0.75)
    mean = per_day * factor
    count = max(0, round(rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
    channels = list(CHANNEL_MIX)
    chosen = rng.choices(channels, weights=list(CHANNEL_MIX.values()), k=count)
    specs = []
    for n, channel in enumerate(chosen):
        if channel == T.SENSOR:
            hour = rng.randrange(24)
        elif channel in (T.PATROL, T.LEADER, T.ENTERPRISE):
            hour = rng.randint(8, 17)
        else:
            hour = rng.choices(range(24), weights=HOURLY)[0]
        at = dt.datetime.combine(day, dt.time(hour), TZ) + dt.timedelta(seconds=rng.randrange(3600))
        specs.append(Spec(day, n, at, channel))
    specs.sort(key=lambda s: s.at)
    return specs


@dataclass
class Tally:
    cases: int = 0
    actions: int = 0
    breaches: int = 0


def build_cases(
    ctx: Any,
    *,
    days: int | None = None,
    per_day: float | None = None,
    now: dt.datetime | None = None,
    last_day: dt.date | None = None,
    log: Callable[[str], None] | None = None,
) -> str:
    """Build ``days`` days of cases ending with ``last_day`` (default: today) and play their
    timelines up to ``now``; returns a one-line summary. An older window (the background backfill)
    plays its cases to their end, since its ``now`` lies long after its last day."""
    days = DEFAULT_DAYS if days is None else days
    per_day = PER_DAY * ctx.scale if per_day is None else per_day
    now = now or timezone.now()
    log = log or getattr(ctx, "log", None) or print
    if days <= 0 or per_day <= 0:
        return "0 件 / cases"
    started = time.perf_counter()
    w = World(_cast(ctx.departments), Places(), Topics.load(), now, ctx.seed)
    tally = Tally()
    last_day = last_day or now.astimezone(TZ).date()
    first = last_day - dt.timedelta(days=days - 1)
    heap: list[tuple[dt.datetime, int, Any]] = []
    seq = itertools.count()
    for k in range(days):
        day = first + dt.timedelta(days=k)
        heapq.heappush(heap, (dt.datetime.combine(day, dt.time(0), TZ), next(seq), ("day", day)))
    scan_at = dt.datetime.combine(first, dt.time(0), TZ) + SCAN_EVERY
    heapq.heappush(heap, (scan_at, next(seq), ("scan", None)))
    # Backfilled history: departments must not be notified about months-old events.
    with A.without_notifications():
        month, month_cases, month_actions = first.strftime("%Y-%m"), 0, 0
        pending = days  # days and acts still queued; the periodic scan does not count
        while heap and pending:
            at, _s, (kind, payload) = heapq.heappop(heap)
            if at > now:
                break
            if at.astimezone(TZ).strftime("%Y-%m") != month:
                log(f"  {month}: {month_cases:,} 件 / cases, {month_actions:,} 次操作 / actions")
                month, month_cases, month_actions = at.astimezone(TZ).strftime("%Y-%m"), 0, 0
            if kind == "day":
                specs = _day_specs(random.Random(f"{ctx.seed}:cases:{payload.isoformat()}"), payload, per_day)
                pending += len(specs) - 1
                for spec in specs:
                    script = _life(spec, w)
                    first_act = next(script)
                    heapq.heappush(heap, (first_act.at, next(seq), ("act", (script, first_act))))
            elif kind == "scan":
                tally.breaches += sla.scan_breaches(at)
                heapq.heappush(heap, (at + SCAN_EVERY, next(seq), ("scan", None)))
            else:
                script, act = payload
                pending -= 1
                result = _run(act, w)
                tally.actions += 1
                month_actions += 1
                if act.run in (A.create_case, A.receive_from_110):
                    tally.cases += 1
                    month_cases += 1
                if result is _FAILED:
                    continue
                try:
                    nxt = script.send(result)
                except StopIteration:
                    continue
                if nxt.at < act.at:
                    nxt.at = act.at + dt.timedelta(minutes=1)
                pending += 1
                heapq.heappush(heap, (nxt.at, next(seq), ("act", (script, nxt))))
        log(f"  {month}: {month_cases:,} 件 / cases, {month_actions:,} 次操作 / actions")
        tally.breaches += sla.scan_breaches(now)
    took = time.perf_counter() - started
    if w.failures:
        log(f"  {len(w.failures)} 个操作失败 / actions failed, e.g. {w.failures[0]}")
    return (
        f"{tally.cases:,} 件 / cases, {tally.actions:,} 次操作 / actions, {tally.breaches:,} 次超时 / breaches, "
        f"{days} 天 / days ({tally.cases / took:.0f} cases/s, {tally.actions / took:.0f} actions/s)"
    )


_FAILED = object()


def build_cases_step(ctx: Any) -> str:
    """The ``cases`` step of ``yiwang demo``: ``ctx.days`` days (default :data:`DEFAULT_DAYS`) of
    ``ctx.per_day`` cases a day (default 200 × scale) ending now."""
    return build_cases(ctx, days=ctx.days, per_day=ctx.per_day)


def _run(act: Act, w: World) -> Any:
    if act.guard is not None and not act.guard():
        return None
    try:
        result = act.run(**act.kwargs, at=act.at)
    except CaseError as exc:
        w.failures.append(f"{act.run.__name__}: {exc}")
        return _FAILED
    if isinstance(result, Case):
        w.status[result.pk] = result.status
    return result


def delete_cases() -> None:
    """Delete every case with its timeline, and the history-only staff. Case events are append-only
    for the application; wiping the demo is the one place that removes them (raw delete)."""
    with transaction.atomic():
        CaseEvent.objects.all()._raw_delete(CaseEvent.objects.db)
        Case.objects.update(merged_into=None)
        Case.objects.all().delete()
        CaseNumberCounter.objects.all().delete()
        User.objects.filter(username__startswith=STAFF_PREFIX).delete()
        User.objects.filter(username__startswith=GRID_PREFIX).delete()


def discard_window(first: dt.date, last: dt.date) -> int:
    """Remove the cases registered on the days ``first``..``last`` with their timelines: a background
    backfill that died half-way deletes its partial window before building it again, so a retried
    job never doubles the history. Cases of a window only merge into cases of the same window."""
    start = dt.datetime.combine(first, dt.time(0), TZ)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), TZ)
    with transaction.atomic():
        ids = list(
            Case.objects.filter(created_at__gte=start, created_at__lt=end).values_list("pk", flat=True)
        )
        CaseEvent.objects.filter(case_id__in=ids)._raw_delete(CaseEvent.objects.db)
        Case.objects.filter(pk__in=ids).update(merged_into=None)
        Case.objects.filter(pk__in=ids).delete()
        CaseNumberCounter.objects.filter(day__gte=first, day__lte=last).delete()
    return len(ids)


def iter_timeline(case: Case) -> Iterator[CaseEvent]:
    return iter(case.events.order_by("at", "id"))


__all__ = ["DEFAULT_DAYS", "PER_DAY", "build_cases", "build_cases_step", "delete_cases", "discard_window"]
