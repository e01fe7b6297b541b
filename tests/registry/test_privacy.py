"""Personal data in the registers: who sees which rows, masked or in full, and the audit trail of
every path that can show a full ID number."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client

from tests.world import World
from yiwang.core.models_audit import AuditRecord
from yiwang.registry import actions
from yiwang.registry.importers import export_file
from yiwang.registry.models import Building, House, Organisation, Resident
from yiwang.registry.presenters import resident_as_dict

from .helpers import make_id, with_full_pii

pytestmark = pytest.mark.django_db

# persona → the grids whose rows it sees (a1/a2 in 社区A1 of 长江路街道, b1 in 村B1 of 大场镇)
VISIBLE = {
    "admin": {"a1", "a2", "b1"},
    "leader": {"a1", "a2", "b1"},
    "operator": set(),  # hotline operators do not browse the register (最小必要)
    "dispatcher_a": {"a1", "a2"},
    "dispatcher_b": {"b1"},
    "handler_a": set(),
    "handler_a_sub": set(),
    "handler_b": set(),
    "grid_worker_a1": {"a1"},  # own grid only, not the whole community
    "outsider": set(),
}


@pytest.fixture
def residents(world: World) -> dict[str, Resident]:
    made = {}
    for seq, key in ((201, "a1"), (203, "a2"), (205, "b1")):
        grid = getattr(world, f"grid_{key}")
        made[key] = actions.register_resident(
            actor=None, name=f"居民{key}", id_number=make_id(seq=seq), phone=f"1380000{seq:04d}", grid=grid
        )
        building = actions.create_building(
            actor=None, code=f"B-{key}", name="1号楼", grid=grid, address="路1号"
        )
        actions.create_house(actor=None, building=building, room="101")
        actions.register_organisation(actor=None, name=f"单位{key}", kind="enterprise", grid=grid)
    return made


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_persona_matrix_rows_and_masking(world: World, residents: dict[str, Resident], persona: str) -> None:
    user = world.personas()[persona]
    expected = VISIBLE[persona]
    seen = {r.name[-2:] for r in Resident.objects.visible_to(user)}
    assert seen == expected
    assert {b.code[-2:] for b in Building.objects.visible_to(user)} == expected
    assert {h.building.code[-2:] for h in House.objects.visible_to(user)} == expected
    assert {o.name[-2:] for o in Organisation.objects.visible_to(user)} == expected
    for resident in Resident.objects.visible_to(user):
        shown = resident_as_dict(resident, user)
        assert shown["id_number"] == resident.id_number_masked != resident.id_number
        assert shown["phone"].count("*") == 4
    before = AuditRecord.objects.count()
    for resident in Resident.objects.visible_to(user):
        with pytest.raises(PermissionDenied):
            resident_as_dict(resident, user, reveal_reason="想看看")
    # Each refused attempt is itself recorded (success=False).
    assert AuditRecord.objects.count() - before == len(expected)
    assert not AuditRecord.objects.filter(success=True, action="pii.reveal").exists()


def test_with_the_grant_a_full_value_needs_a_reason_and_is_audited(
    world: World, residents: dict[str, Resident]
) -> None:
    admin = with_full_pii(world.admin)
    resident = residents["b1"]
    assert resident_as_dict(resident, admin)["id_number"] == resident.id_number_masked
    shown = resident_as_dict(resident, admin, reveal_reason="低保入户核查", ip="10.0.0.8")
    assert shown["id_number"] == make_id(seq=205)
    assert shown["phone"] == "13800000205"
    entries = AuditRecord.objects.filter(action="pii.reveal", success=True, object_id=str(resident.pk))
    assert {(e.field, e.reason, e.actor_name, e.ip) for e in entries} == {
        ("id_number", "低保入户核查", "admin", "10.0.0.8"),
        ("phone", "低保入户核查", "admin", "10.0.0.8"),
    }


def test_key_group_tags_are_shown_only_to_roles_that_may_see_them(
    world: World, residents: dict[str, Resident]
) -> None:
    resident = residents["a1"]
    for code in ("elderly_alone", "left_behind_child", "community_correction"):
        actions.tag_resident(resident.pk, code, actor=None)
    shown = {
        name: {t["code"] for t in resident_as_dict(resident, world.personas()[name])["tags"]}
        for name in ("admin", "leader", "dispatcher_a", "grid_worker_a1")
    }
    assert shown == {
        "admin": {"elderly_alone", "left_behind_child", "community_correction"},
        "leader": {"elderly_alone"},
        "dispatcher_a": {"elderly_alone"},
        "grid_worker_a1": {"elderly_alone", "left_behind_child"},
    }


def _staff_client(world: World, client: Client, *, full_pii: bool) -> Client:
    admin = world.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_every_path_that_can_show_a_full_id_number_writes_an_audit_record(
    world: World, residents: dict[str, Resident], client: Client, tmp_path: Path
) -> None:
    resident = residents["a1"]
    full = make_id(seq=201)
    admin = with_full_pii(world.admin)

    def audited(action: str) -> int:
        return AuditRecord.objects.filter(action=action, success=True).count()

    # 1. presenter (web and API detail)
    before = audited("pii.reveal")
    assert resident_as_dict(resident, admin, reveal_reason="核查")["id_number"] == full
    assert audited("pii.reveal") == before + 2

    # 2. export (file and command)
    before = audited("export")
    export_file("residents", tmp_path / "a.csv", admin, reveal_reason="核查")
    assert full in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    call_command(
        "registry", "export", "residents", str(tmp_path / "b.xlsx"), user="admin", reveal_reason="核查"
    )
    assert audited("export") == before + 2

    # 3. admin reveal page
    staff = _staff_client(world, client, full_pii=True)
    before = audited("pii.reveal")
    page = staff.post(f"/admin/registry/resident/{resident.pk}/reveal/", {"reason": "入户走访"})
    assert page.status_code == 200
    assert full in page.text
    assert audited("pii.reveal") == before + 2

    # Paths that never show it: masked export, admin list and change page, presenter without reason.
    before = AuditRecord.objects.count()
    export_file("residents", tmp_path / "m.csv", admin)
    assert full not in (tmp_path / "m.csv").read_text(encoding="utf-8-sig")
    for url in ("/admin/registry/resident/", f"/admin/registry/resident/{resident.pk}/change/"):
        response = staff.get(url)
        assert response.status_code == 200
        assert full not in response.text
        assert resident.id_number_masked in response.text
    # Searching by the full number (typed by the user) finds the row through its hash.
    assert resident.id_number_masked in staff.get(f"/admin/registry/resident/?q={full}").text
    assert "13800000201" not in staff.get("/admin/registry/resident/").text
    assert AuditRecord.objects.count() == before


def test_the_admin_reveal_page_refuses_without_reason(
    world: World, residents: dict[str, Resident], client: Client
) -> None:
    staff = _staff_client(world, client, full_pii=True)
    page = staff.post(f"/admin/registry/resident/{residents['a1'].pk}/reveal/", {"reason": " "})
    assert make_id(seq=201) not in page.text
    assert "理由" in page.text
