"""Who sees which dispute: mediators their committees', leaders and administrators their area,
everyone else nothing; the linked case never reaches dispatchers, the hotline or Open311."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.governance.mediation.helpers import MedWorld, register
from yiwang.cases.models import Case
from yiwang.governance.mediation.models import Committee, Dispute, DisputeEvent
from yiwang.people.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(med: MedWorld) -> tuple[Dispute, Dispute]:
    return register(med), register(med, actor=med.mediator_b, committee=med.committee_b)


def _names(qs: object) -> set[int]:
    return set(qs.values_list("pk", flat=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("mediator_a", {"a"}),
        ("labour_mediator_a", {"a"}),
        ("mediator_b", {"b"}),
        ("leader", {"a", "b"}),
        ("admin", {"a", "b"}),
        ("dispatcher_a", set()),
        ("dispatcher_b", set()),
        ("operator", set()),
        ("grid_worker_a1", set()),
        ("handler_a", set()),
        ("outsider", set()),
    ],
)
def test_visible_to_matrix(med: MedWorld, two: tuple[Dispute, Dispute], persona: str, sees: set[str]) -> None:
    a, b = two
    user = getattr(med, persona, None) or getattr(med.world, persona)
    expected = {"a": a.pk, "b": b.pk}
    assert _names(Dispute.objects.visible_to(user)) == {expected[k] for k in sees}
    assert _names(DisputeEvent.objects.visible_to(user)) == set(
        DisputeEvent.objects.filter(dispute_id__in=[expected[k] for k in sees]).values_list("pk", flat=True)
    )


def test_street_leader_sees_only_their_street(med: MedWorld, two: tuple[Dispute, Dispute]) -> None:
    from tests.factories import UserFactory, grant

    leader_b = grant(UserFactory(username="leader_b"), Role.LEADER, division=med.world.street_b)
    assert _names(Dispute.objects.visible_to(leader_b)) == {two[1].pk}
    assert _names(Committee.objects.visible_to(leader_b)) == {med.committee_b.pk}


def test_anonymous_sees_nothing(two: tuple[Dispute, Dispute]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not Dispute.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.parametrize(
    "persona", ["dispatcher_a", "dispatcher_b", "operator", "grid_worker_a1", "handler_a"]
)
def test_linked_case_is_invisible_to_case_roles(
    med: MedWorld, two: tuple[Dispute, Dispute], persona: str
) -> None:
    user = getattr(med.world, persona)
    assert not Case.objects.visible_to(user).filter(pk__in=[d.case_id for d in two]).exists()


def test_never_in_open311(med: MedWorld, two: tuple[Dispute, Dispute], client: Client) -> None:
    response = client.get("/open311/v2/requests.json")
    numbers = {d.case.number for d in two}
    body = response.content.decode()
    assert response.status_code == 200
    assert not any(n in body for n in numbers)
    services = client.get("/open311/v2/services.json").content.decode()
    assert "MD-" not in services
    assert "矛盾纠纷" not in services
    for d in two:
        single = client.get(f"/open311/v2/requests/{d.case.number}.json")
        assert single.status_code == 404
