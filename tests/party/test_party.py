"""双报到, grid posts, 流动哨兵, volunteers and the append-only ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.registry.helpers import make_id
from tests.world import World
from yiwang.party import actions
from yiwang.party.models import LedgerEntry, PartyMember, Sentinel
from yiwang.party.queries import party_panel, volunteer_stats
from yiwang.registry import actions as registry
from yiwang.registry.errors import RegistryForbidden, RegistryInputError

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world: World) -> PartyMember:
    org = actions.create_party_organization(
        actor=world.admin, name="区城管局机关党支部", kind="党支部", unit="城管局"
    )
    actions.report_organization(org.pk, world.community_a, actor=world.admin, commitment="环境整治")
    person = actions.register_party_member(
        actor=world.admin, name="周红", organization=org, kind="在职党员", phone="13611112222"
    )
    return actions.report_member(person.pk, world.community_a, actor=world.admin)


def test_an_in_service_member_reports_and_becomes_instructor_and_contact(
    world: World, member: PartyMember
) -> None:
    household = registry.create_household(actor=None, grid=world.grid_a1, number="H-001")
    actions.assign_member(member.pk, actor=world.admin, role="grid_instructor", grid=world.grid_a1)
    actions.assign_member(
        member.pk, actor=world.admin, role="联系户", grid=world.grid_a1, household=household
    )
    panel = party_panel(world.grid_a1)
    assert panel["grid_instructors"] == {"count": 1, "names": ["周红"]}
    assert panel["household_contacts"]["list"] == [{"member": "周红", "household": "H-001"}]
    assert panel["reported_organizations"]["names"] == ["区城管局机关党支部"]
    assert member.phone_masked == "136****2222"


def test_only_reported_in_service_members_get_posts_in_their_community(
    world: World, member: PartyMember
) -> None:
    with pytest.raises(RegistryInputError) as err:
        actions.assign_member(member.pk, actor=world.admin, role="grid_instructor", grid=world.grid_b1)
    assert err.value.field == "grid"
    retired = actions.register_party_member(
        actor=None, name="老李", organization=member.organization, kind="retired"
    )
    with pytest.raises(RegistryInputError):
        actions.report_member(retired.pk, world.community_a, actor=world.admin)
    with pytest.raises(RegistryInputError):
        actions.assign_member(retired.pk, actor=world.admin, role="grid_instructor", grid=world.grid_a1)


def test_a_contact_post_needs_a_household_of_the_grid(world: World, member: PartyMember) -> None:
    other = registry.create_household(actor=None, grid=world.grid_a2)
    with pytest.raises(RegistryInputError) as err:
        actions.assign_member(
            member.pk, actor=world.admin, role="household_contact", grid=world.grid_a1, household=other
        )
    assert err.value.field == "household"


def test_only_administrators_of_the_area_register_reports(world: World, member: PartyMember) -> None:
    with pytest.raises(RegistryForbidden):
        actions.report_member(member.pk, world.community_a, actor=world.dispatcher_a)


def test_party_members_are_scoped_by_their_community(world: World, member: PartyMember) -> None:
    assert list(PartyMember.objects.visible_to(world.dispatcher_a)) == [member]
    assert not PartyMember.objects.visible_to(world.dispatcher_b).exists()
    assert not PartyMember.objects.visible_to(world.grid_worker_a1).exists()
    actions.assign_member(member.pk, actor=world.admin, role="grid_instructor", grid=world.grid_a1)
    assert list(PartyMember.objects.visible_to(world.grid_worker_a1)) == [member]


def test_sentinels_are_registered_in_a_grid_with_optional_login(world: World) -> None:
    sentinel = actions.register_sentinel(
        actor=world.grid_worker_a1, name="骑手小王", occupation="外卖骑手", company="某平台", grid=world.grid_a1,
        phone="13512345678", user=world.outsider,
    )  # fmt: skip
    assert sentinel.phone_masked == "135****5678"
    assert party_panel(world.grid_a1)["sentinels"] == {"count": 1, "by_occupation": {"rider": 1}}
    assert list(Sentinel.objects.visible_to(world.grid_worker_a1)) == [sentinel]
    with pytest.raises(RegistryForbidden):
        actions.register_sentinel(
            actor=world.grid_worker_a1, name="x", occupation="courier", grid=world.grid_b1
        )


def test_volunteer_hours_and_points_go_to_an_append_only_ledger(world: World, member: PartyMember) -> None:
    resident = registry.register_resident(
        actor=None, name="志愿者甲", id_number=make_id(seq=301), grid=world.grid_a1
    )
    volunteer = actions.register_volunteer(resident.pk, actor=world.grid_worker_a1, member=member)
    start = timezone.make_aware(dt.datetime(2026, 5, 1, 9, 0))
    activity = actions.publish_activity(
        actor=world.admin, title="清洁家园", community=world.community_a, grid=world.grid_a1,
        starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=1, points_per_hour=10,
    )  # fmt: skip
    signup = actions.sign_up(activity.pk, volunteer.pk, actor=None)
    actions.check_in(signup.pk, actor=world.admin, at=start)
    entry = actions.check_out(signup.pk, actor=world.admin, at=start + dt.timedelta(hours=2, minutes=20))
    assert (entry.hours, entry.points) == (dt.timedelta(hours=2, minutes=15).total_seconds() / 3600, 23)
    actions.redeem_points(volunteer.pk, 20, actor=world.grid_worker_a1, note="兑换洗衣液")
    with pytest.raises(RegistryInputError):
        actions.redeem_points(volunteer.pk, 20, actor=world.grid_worker_a1)
    stats = volunteer_stats(community=world.community_a)
    assert stats["volunteers"] == 1
    assert stats["party_member_volunteers"] == 1
    assert (stats["points_earned"], stats["points_spent"]) == (23, 20)
    assert volunteer_stats(grid=world.grid_b1)["volunteers"] == 0
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).update(points=999)
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.all().delete()
    other = registry.register_resident(
        actor=None, name="志愿者乙", id_number=make_id(seq=303), grid=world.grid_a1
    )
    with pytest.raises(RegistryInputError):  # capacity 1
        actions.sign_up(activity.pk, actions.register_volunteer(other.pk, actor=None).pk, actor=None)
