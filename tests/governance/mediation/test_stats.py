"""Statistics on a hand-computed fixture."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.governance.mediation.helpers import MedWorld, register
from yiwang.governance.mediation import actions
from yiwang.governance.mediation.models import DisputeKind
from yiwang.governance.mediation.stats import mediation_stats

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def _mediate(med: MedWorld, actor: object, dispute_pk: int, start: int) -> None:
    d = actions.accept_dispute(dispute_pk, actor=actor, at=_day(start))  # type: ignore[arg-type]
    mediator = d.committee.members.first()
    actions.assign_mediators(dispute_pk, actor=actor, mediators=[mediator], at=_day(start))  # type: ignore[arg-type]
    actions.record_session(
        dispute_pk,
        actor=actor,
        held_on=_day(start).date(),
        place="调解室",
        mediators=[mediator],
        at=_day(start),  # type: ignore[arg-type]
    )


@pytest.fixture
def fixture(med: MedWorld) -> MedWorld:
    """Committee A: neighbour agreed after 4 days, neighbour failed after 10, labour agreed after 6,
    labour still open (accepted on day 0, overdue by day 20). Committee B: family agreed after 2.
    One more neighbour dispute in committee A applied in April (outside March)."""
    a, b = med.mediator_a, med.mediator_b
    d1 = register(med, at=_day(0))
    _mediate(med, a, d1.pk, 0)
    actions.record_agreement(
        d1.pk, actor=a, signed_on=_day(4).date(), terms="t", parties=list(d1.parties.all()), at=_day(4)
    )
    d2 = register(med, at=_day(1))
    _mediate(med, a, d2.pk, 1)
    actions.record_failure(d2.pk, actor=a, reason="r", referral="court", at=_day(11))
    d3 = register(med, actor=med.labour_mediator_a, kind=DisputeKind.LABOUR, at=_day(2))
    _mediate(med, a, d3.pk, 2)
    actions.record_agreement(
        d3.pk, actor=a, signed_on=_day(8).date(), terms="t", parties=list(d3.parties.all()), at=_day(8)
    )
    d4 = register(med, kind=DisputeKind.LABOUR, at=_day(3))
    actions.accept_dispute(d4.pk, actor=a, at=_day(3))
    d5 = register(med, actor=b, committee=med.committee_b, kind=DisputeKind.FAMILY, at=_day(5))
    _mediate(med, b, d5.pk, 5)
    actions.record_agreement(
        d5.pk, actor=b, signed_on=_day(7).date(), terms="t", parties=list(d5.parties.all()), at=_day(7)
    )
    register(med, at=_day(35))
    return med


MARCH = (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, tzinfo=dt.UTC))


def test_totals_for_march(fixture: MedWorld) -> None:
    report = mediation_stats(fixture.world.leader, *MARCH, now=_day(25))
    total = report.as_dict()["total"]
    # 5 disputes; 4 concluded (3 agreements, 1 failure); days (4 + 10 + 6 + 2) / 4 = 5.5; d4 is due
    # on day 3 + 15 = 18 and still open on day 25.
    assert total == {
        "label": "合计",
        "disputes": 5,
        "concluded": 4,
        "agreements": 3,
        "success_rate": 0.75,
        "average_days": 5.5,
        "overdue": 1,
    }


def test_by_kind_and_committee(fixture: MedWorld) -> None:
    report = mediation_stats(fixture.world.leader, *MARCH, now=_day(25))
    kinds = {f.label: (f.disputes, f.agreements, f.success_rate, f.average_days) for f in report.by_kind}
    assert kinds == {
        "邻里纠纷": (2, 1, 0.5, 7.0),
        "婚姻家庭": (1, 1, 1.0, 2.0),
        "劳动争议": (2, 1, 1.0, 6.0),
    }
    committees = {f.label: (f.disputes, f.concluded, f.success_rate) for f in report.by_committee}
    assert committees == {
        "长江路街道人民调解委员会": (4, 3, 2 / 3),
        "村B1人民调解委员会": (1, 1, 1.0),
    }


def test_whole_history_and_scope(fixture: MedWorld) -> None:
    assert mediation_stats(fixture.world.leader).total.disputes == 6
    assert mediation_stats(fixture.mediator_b).total.disputes == 1
    assert mediation_stats(fixture.world.dispatcher_a).total.disputes == 0
    assert mediation_stats(fixture.world.dispatcher_a).total.success_rate is None
