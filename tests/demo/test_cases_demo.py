"""The demo's case history (``yiwang.demo.cases``): realistic, valid, deterministic and our own texts."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.reference_data import reseed_reference_data
from yiwang.cases.choices import Channel, EventKind, Satisfaction
from yiwang.cases.models import Case, CaseEvent
from yiwang.core.calendar import TZ
from yiwang.demo import case_texts
from yiwang.demo.builder import GOVERNANCE_STEPS, build_demo, reset_demo
from yiwang.demo.cases import build_cases, delete_cases

SEED = 11
NOW = dt.datetime(2026, 7, 15, 14, 0, tzinfo=TZ)  # a summer Wednesday afternoon


def _build(days: int, per_day: float) -> str:
    ctx = build_demo(seed=SEED, scale=0.05, days=0, log=lambda line: None, skip=GOVERNANCE_STEPS)
    return build_cases(ctx, days=days, per_day=per_day, now=NOW, log=lambda line: None)


@pytest.fixture(scope="module")
def history(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    """Two weeks at 30 cases a day, built once for the module and deleted afterwards."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        reseed_reference_data()  # an earlier transactional test may have flushed them
        summary = _build(days=14, per_day=30)
        yield summary
        reset_demo(log=lambda line: None)


@pytest.fixture
def db_history(history: str, db: None) -> str:
    return history


def test_no_action_of_the_history_fails(db_history: str) -> None:
    assert "失败" not in db_history
    assert Case.objects.count() > 300


def test_every_channel_appears(db_history: str) -> None:
    # Disputes (the mediation channel) come from the mediation module's own demo step.
    assert set(Case.objects.values_list("channel", flat=True)) == set(Channel.values) - {Channel.MEDIATION}


def test_histories_include_returns_extensions_overdue_unsatisfied_and_reopening(db_history: str) -> None:
    kinds = set(CaseEvent.objects.values_list("kind", flat=True))
    expected = {
        EventKind.RETURNED, EventKind.EXTENSION_REQUESTED, EventKind.EXTENSION_APPROVED, EventKind.SLA_BREACHED,
        EventKind.REOPENED, EventKind.VERIFICATION_FAILED, EventKind.URGED, EventKind.SUPERVISED,
        EventKind.MERGED, EventKind.INVALIDATED, EventKind.ANSWERED_DIRECTLY, EventKind.RECEIVED_FROM_110,
        EventKind.CALLED_BACK, EventKind.VERIFIED,
    }  # fmt: skip
    assert expected <= kinds
    unhappy = CaseEvent.objects.filter(
        kind=EventKind.CALLED_BACK, data__satisfaction=Satisfaction.UNSATISFIED
    )
    assert unhappy.exists()
    assert Case.objects.filter(reopen_count__gt=0).exists()


def test_satisfaction_is_mostly_satisfied(db_history: str) -> None:
    answers = list(
        CaseEvent.objects.filter(kind=EventKind.CALLED_BACK).exclude(data__satisfaction="")
        .values_list("data__satisfaction", flat=True)
    )  # fmt: skip
    share = answers.count(Satisfaction.SATISFIED) / len(answers)
    assert 0.6 < share < 0.9
    assert answers.count(Satisfaction.UNSATISFIED) < answers.count(Satisfaction.BASICALLY_SATISFIED)


def test_the_last_days_leave_cases_open_at_every_stage(db_history: str) -> None:
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"registered", "dispatched", "in_progress", "resolved", "closed"} <= statuses
    assert Case.objects.open().overdue(NOW).exists()


def test_every_timeline_is_a_valid_path_through_the_workflow(db_history: str) -> None:
    previous: dict[int, str] = {}
    for case_id, frm, to, at in CaseEvent.objects.order_by("case_id", "at", "id").values_list(
        "case_id", "from_status", "to_status", "at"
    ):
        assert frm == previous.get(case_id, ""), f"case {case_id}: {frm!r} after {previous.get(case_id)!r}"
        assert at <= NOW
        previous[case_id] = to
    final = dict(Case.objects.values_list("pk", "status"))
    assert previous == final


def test_no_event_lies_in_the_future_and_numbers_follow_the_day(db_history: str) -> None:
    assert not CaseEvent.objects.filter(at__gt=NOW).exists()
    case = Case.objects.order_by("created_at").first()
    assert case is not None
    assert case.number.startswith(case.created_at.astimezone(TZ).strftime("%y%m%d"))


def test_flooding_shows_up_in_summer_and_heating_does_not(db_history: str) -> None:
    titles = " ".join(Case.objects.values_list("title", flat=True))
    assert "积水" in titles
    assert titles.count("暖气") < titles.count("积水")


def test_same_seed_and_now_give_the_same_history(db_history: str) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        return list(
            CaseEvent.objects.order_by("case__number", "at", "id").values_list(
                "case__number",
                "case__title",
                "case__description",
                "case__lng",
                "kind",
                "at",
                "to_status",
                "note",
            )
        )

    runs = []
    for _ in range(2):
        delete_cases()
        build_cases(_Ctx(), days=2, per_day=15, now=NOW, log=lambda line: None)
        runs.append(snapshot())
    assert runs[0]
    assert runs[0] == runs[1]


class _Ctx:
    seed = SEED
    scale = 0.05
    departments: dict[str, object] = {}


# --- our own texts ------------------------------------------------------------------------------
N = 12  # a run of this many characters in common counts as copying


def _template_strings() -> list[str]:
    out: list[str] = []
    for value in vars(case_texts).values():
        out += list(_strings(value))
    return [piece for s in out for piece in re.split(r"\{[a-z]+\}", s) if len(piece) >= N]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, case_texts.Topic):
        for v in vars(value).values():
            yield from _strings(v)


def test_no_template_copies_a_teddy2020_message() -> None:
    folder = Path(settings.YIWANG_SHARED_DIR) / "data" / "teddy2020"
    files = sorted(folder.glob("attachment[234]_*.csv"))
    assert files, f"the shared teddy2020 data is missing under {folder} (set YIWANG_SHARED_DIR)"
    grams = {piece[i : i + N] for piece in _template_strings() for i in range(len(piece) - N + 1)}
    assert grams
    for path in files:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if len(cell) < N:
                        continue
                    hits = {cell[i : i + N] for i in range(len(cell) - N + 1)} & grams
                    assert not hits, f"{path.name}: {hits}"
