from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import GridFactory, square
from yiwang.grids.models import Grid
from yiwang.grids.topology import check_topology


@pytest.fixture
def tiled(world):
    """community_a gets an outline exactly tiled by its two grids; community_b has no outline."""
    world.community_a.boundary = {
        "type": "Polygon",
        "coordinates": [[[120.0, 35.9], [120.02, 35.9], [120.02, 35.91], [120.0, 35.91], [120.0, 35.9]]],
    }
    world.community_a.save()
    return world


def kinds(issues):
    return sorted(i.kind for i in issues)


def test_clean_tiling_has_no_issues(tiled):
    assert check_topology() == []


def test_overlap_between_sibling_grids_is_found(tiled):
    Grid.objects.filter(pk=tiled.grid_a2.pk).update(boundary=square(120.009, 35.90))
    issues = check_topology()
    overlap = [i for i in issues if i.kind == "overlap"]
    assert len(overlap) == 1
    assert overlap[0].codes == (tiled.grid_a1.code, tiled.grid_a2.code)
    # 0.001° × 0.01° at 35.9°N ≈ 90 m × 1113 m
    assert overlap[0].area_m2 == pytest.approx(100_400, rel=0.02)
    assert "重叠" in overlap[0].message


def test_gap_in_community_is_found(tiled):
    Grid.objects.filter(pk=tiled.grid_a2.pk).update(boundary=square(120.011, 35.90, 0.009))
    gaps = [i for i in check_topology() if i.kind == "gap"]
    assert len(gaps) == 1
    assert gaps[0].codes == (tiled.community_a.code,)
    assert "未被任何网格覆盖" in gaps[0].message


def test_grid_outside_its_community_is_found(tiled):
    GridFactory(
        community=tiled.community_a, code=f"{tiled.community_a.code}003", boundary=square(120.0, 35.91)
    )
    outside = [i for i in check_topology() if i.kind == "outside"]
    assert [i.codes[0] for i in outside] == [f"{tiled.community_a.code}003"]


def test_invalid_geometry_is_reported(tiled):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[120.1, 35.9], [120.11, 35.91], [120.11, 35.9], [120.1, 35.91], [120.1, 35.9]]],
    }
    Grid.objects.filter(pk=tiled.grid_b1.pk).update(boundary=bowtie)
    assert "invalid" in kinds(check_topology())


def test_grids_of_different_communities_may_overlap(tiled):
    Grid.objects.filter(pk=tiled.grid_b1.pk).update(boundary=square(120.005, 35.90))
    assert [i for i in check_topology() if i.kind == "overlap"] == []


def test_check_topology_command_exits_1_on_issues(tiled):
    Grid.objects.filter(pk=tiled.grid_a2.pk).update(boundary=square(120.009, 35.90))
    with pytest.raises(CommandError) as excinfo:
        call_command("yiwang_check", "topology")
    assert excinfo.value.returncode == 1


def test_check_command_runs_system_check_then_topology(tiled, capsys):
    call_command("yiwang_check")
    out = capsys.readouterr().out
    assert "System check identified no issues" in out
    assert "grid topology OK" in out
