"""The pages: statistics and list, the filing form, a demand's page with its step forms."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from tests.governance.enterprise.conftest import Channel, at_stage, financing
from yiwang.governance.enterprise.models import Demand, DemandStatus
from yiwang.people.models import User

ClientFor = Callable[[User], Client]


def test_index_shows_the_figures_and_only_the_users_demands(channel: Channel, client_for: ClientFor) -> None:
    a = financing(channel.user_a)
    b = financing(channel.user_b)
    page = client_for(channel.user_a).get(reverse("web:enterprise:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="summary"' in html
    assert a.case.number in html
    assert b.case.number not in html
    assert reverse("web:enterprise:file") in html


def test_index_is_404_for_roles_it_is_not_meant_for(channel: Channel, client_for: ClientFor) -> None:
    assert client_for(channel.world.operator).get(reverse("web:enterprise:index")).status_code == 404


def test_an_enterprise_user_files_through_the_form(channel: Channel, client_for: ClientFor) -> None:
    client = client_for(channel.user_a)
    form = client.get(reverse("web:enterprise:file"))
    assert form.status_code == 200
    assert 'name="enterprise"' not in form.content.decode()  # their own enterprise, implied
    response = client.post(
        reverse("web:enterprise:file"),
        {"kind": "financing", "description": "需要流动资金", "amount_requested": "1000000", "purpose": "原材料",
         "term_months": "12", "collateral": "none"},
    )  # fmt: skip
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:enterprise:detail", args=[demand.pk])
    assert demand.enterprise == channel.ent_a


def test_a_bad_amount_shows_the_form_again_with_the_message(channel: Channel, client_for: ClientFor) -> None:
    response = client_for(channel.user_a).post(
        reverse("web:enterprise:file"),
        {
            "kind": "financing",
            "description": "x",
            "amount_requested": "-3",
            "purpose": "y",
            "term_months": "12",
        },
    )
    assert response.status_code == 400
    assert "金额必须大于零" in response.content.decode()
    assert not Demand.objects.exists()


def test_the_filing_form_is_404_for_a_banker(channel: Channel, client_for: ClientFor) -> None:
    assert client_for(channel.banker).get(reverse("web:enterprise:file")).status_code == 404


def test_detail_shows_the_allowed_step_forms_and_is_404_outside_scope(
    channel: Channel, client_for: ClientFor
) -> None:
    demand = at_stage(channel, "accepted")
    html = client_for(channel.banker).get(reverse("web:enterprise:detail", args=[demand.pk])).content.decode()
    assert 'id="action-conclude"' in html
    assert 'id="action-visit"' in html
    assert 'id="action-route"' not in html
    own = client_for(channel.user_a).get(reverse("web:enterprise:detail", args=[demand.pk]))
    assert own.status_code == 200
    assert 'id="action-' not in own.content.decode()
    assert (
        client_for(channel.user_b).get(reverse("web:enterprise:detail", args=[demand.pk])).status_code == 404
    )


def test_steps_through_the_page_forms(channel: Channel, client_for: ClientFor) -> None:
    demand = financing(channel.user_a)
    admin = client_for(channel.world.admin)
    url = reverse("web:enterprise:action", args=[demand.pk, "route"])
    assert admin.post(url, {"department": channel.bank.department.pk}).status_code == 302
    banker = client_for(channel.banker)
    assert banker.post(reverse("web:enterprise:action", args=[demand.pk, "accept"]), {}).status_code == 302
    visit = banker.post(
        reverse("web:enterprise:action", args=[demand.pk, "visit"]), {"mode": "on_site", "note": "走访"}
    )
    assert visit.status_code == 302
    conclude = reverse("web:enterprise:action", args=[demand.pk, "conclude"])
    refused = banker.post(conclude, {"amount_granted": "0"})
    assert refused.status_code == 400
    assert "原因" in refused.content.decode()
    assert banker.post(conclude, {"amount_granted": "500000"}).status_code == 302
    demand.refresh_from_db()
    assert demand.status == DemandStatus.CONCLUDED
    page = banker.get(reverse("web:enterprise:detail", args=[demand.pk])).content.decode()
    assert "走访" in page


def test_a_step_of_another_role_is_403_and_of_another_state_409(
    channel: Channel, client_for: ClientFor
) -> None:
    demand = at_stage(channel, "routed")
    counsellor = client_for(channel.counsellor)
    assert (
        counsellor.post(reverse("web:enterprise:action", args=[demand.pk, "accept"]), {}).status_code == 403
    )
    admin = client_for(channel.world.admin)
    again = admin.post(
        reverse("web:enterprise:action", args=[demand.pk, "route"]),
        {"department": channel.bank.department.pk},
    )
    assert again.status_code == 409


def test_the_enterprise_list_registers_and_names_counsellors(channel: Channel, client_for: ClientFor) -> None:
    from tests.governance.enterprise.conftest import credit_code
    from yiwang.governance.enterprise.models import Enterprise

    admin = client_for(channel.world.admin)
    url = reverse("web:enterprise:enterprises")
    page = admin.get(url).content.decode()
    assert "青岛甲制造有限公司" in page
    assert 'id="enterprise-form"' in page
    body = {
        "name": "青岛丁食品有限公司",
        "credit_code": credit_code(5),
        "industry": "C",
        "grid": channel.world.grid_a1.pk,
    }
    assert admin.post(url, body).status_code == 302
    bad = admin.post(url, {**body, "name": "x", "credit_code": "123"})
    assert bad.status_code == 400
    assert "18 位" in bad.content.decode()
    new = Enterprise.objects.get(organisation__name="青岛丁食品有限公司")
    admin.post(reverse("web:enterprise:counsellor", args=[new.pk]), {"counsellor": channel.counsellor.pk})
    new.refresh_from_db()
    assert new.counsellor == channel.counsellor


def test_an_enterprise_user_sees_only_its_enterprise_and_no_forms(
    channel: Channel, client_for: ClientFor
) -> None:
    page = client_for(channel.user_a).get(reverse("web:enterprise:enterprises")).content.decode()
    assert "青岛甲制造有限公司" in page
    assert "青岛乙物流有限公司" not in page
    assert 'id="enterprise-form"' not in page
    assert client_for(channel.user_a).post(reverse("web:enterprise:enterprises"), {}).status_code == 404


def test_the_figures_follow_the_chosen_period(channel: Channel, client_for: ClientFor) -> None:
    financing(channel.user_a)
    leader = client_for(channel.world.leader)
    everything = leader.get(reverse("web:enterprise:index")).context["stats"]
    assert everything.total.demands == 1
    long_ago = leader.get(reverse("web:enterprise:index"), {"start": "2020-01-01", "end": "2020-12-31"})
    assert long_ago.context["stats"].total.demands == 0
    assert leader.get(reverse("web:enterprise:index"), {"start": "nope"}).status_code == 200
