from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import DepartmentFactory, DivisionFactory, UserFactory, grant
from yiwang.people.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher() -> User:
    # Not the shared ``world``: its persona named "admin" would shadow admin_client's superuser.
    district = DivisionFactory()
    user = UserFactory(
        username="zhang", display_name="张派遣", phone="13800000000", department=DepartmentFactory()
    )
    return grant(user, Role.DISPATCHER, division=district)


@pytest.mark.parametrize("model", ["user", "department", "grant"])
def test_changelist_and_add_page_load_for_superuser(
    admin_client: Client, dispatcher: User, model: str
) -> None:
    assert admin_client.get(reverse(f"admin:people_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:people_{model}_add")).status_code == 200


def test_user_change_page_shows_profile_fields_and_grants_inline(
    admin_client: Client, dispatcher: User
) -> None:
    response = admin_client.get(reverse("admin:people_user_change", args=[dispatcher.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("display_name", "phone", "department", "must_change_password"):
        assert name in form.fields
    grants = [i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "grants"]
    assert len(grants[0].formset.initial_forms) == 1


def test_user_changelist_searches_display_name(admin_client: Client, dispatcher: User) -> None:
    UserFactory(username="li", display_name="李承办")
    response = admin_client.get(reverse("admin:people_user_changelist"), {"q": "张派遣"})
    assert [u.pk for u in response.context["cl"].result_list] == [dispatcher.pk]
