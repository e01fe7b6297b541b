"""The English interface (/en/...): the chrome of the main pages is English, with no Chinese left in
navigation, headings, buttons and labels; Chinese stays the default without a prefix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.i18n.chrome import chrome_texts, untranslated
from tests.web.conftest import new_case
from tests.world import World
from yiwang.cases.models import Case, Category
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, User

ClientFor = Callable[[User], Client]


def url(name: str, *args: object, lang: str = "en") -> str:
    """The path of a page in a language (reverse() follows the active language)."""
    with translation.override(lang):
        return reverse(name, args=args)


def data_names(world: World, *cases: Case) -> list[str]:
    """Names that are data, not interface: places, departments, people, categories, case texts."""
    names = [d.name for d in Division.objects.all()]
    names += [g.name for g in Grid.objects.all()]
    names += [d.name for d in Department.objects.all()]
    names += [c.name for c in Category.objects.all()]
    names += [str(u) for u in User.objects.all()]
    for case in cases:
        names += [case.title, case.description]
    return names


def test_the_chrome_check_finds_chinese_interface_text_but_not_data() -> None:
    html = (
        '<nav aria-label="主导航"><a>One map</a></nav><h1>长江路街道 dispatch</h1>'
        "<button>派遣</button><p>路灯不亮</p>"
    )
    assert untranslated(html, ["长江路街道"]) == ["主导航", "派遣"]


@pytest.mark.parametrize(
    ("persona", "page", "words"),
    [
        (
            "dispatcher_a",
            "home",
            ["Grid-based social governance platform", "Visible grids", "Dispatch queue"],
        ),
        ("dispatcher_a", "queue", ["Dispatch queue", "Dispatch selected cases", "Log out"]),
        ("handler_a", "inbox", ["Department inbox", "Within limit", "Overdue"]),
        ("operator", "intake", ["Hotline intake", "Request text", "Urgency", "Longitude"]),
        ("grid_worker_a1", "phone", ["Report an event", "Open cases in my grids"]),
    ],
)
def test_english_pages_show_english_chrome(
    client_for: ClientFor, world: World, persona: str, page: str, words: list[str]
) -> None:
    case = new_case(world)
    response = client_for(getattr(world, persona)).get(url(f"web:{page}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for word in words:
        assert word in html, word
    assert untranslated(html, data_names(world, case)) == []


def test_english_navigation_names_the_modules_in_english(client_for: ClientFor, world: World) -> None:
    html = client_for(world.admin).get(url("web:home")).content.decode()
    modules = ("One map", "Dashboard", "Village deliberation", "Mediation", "Key projects")
    for name in (*modules, "Enterprise direct line", "Special campaigns"):
        assert name in html, name


@pytest.mark.parametrize(
    "page",
    [
        "map",
        "dashboard",
        "unsatisfied",
        "reports",
        "password_change",
        "deliberation:index",
        "mediation:index",
        "projects:index",
        "enterprise:index",
        "campaigns:index",
    ],
)
def test_english_overview_pages_leave_no_chinese_in_the_chrome(
    client_for: ClientFor, world: World, page: str
) -> None:
    response = client_for(world.leader).get(url(f"web:{page}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert untranslated(html, data_names(world)) == []


def test_english_case_page_shows_english_facts_and_actions(client_for: ClientFor, world: World) -> None:
    case = new_case(world)
    html = client_for(world.dispatcher_a).get(url("web:case", case.pk)).content.decode()
    for word in ("Request text", "Category", "Channel", "12345 hotline", "Urgency", "Dispatch"):
        assert word in html, word
    assert untranslated(html, data_names(world, case)) == []


def test_english_login_page_is_english_for_anonymous_visitors(client: Client, db: None) -> None:
    html = client.get(url("web:login")).content.decode()
    texts = chrome_texts(html)
    assert "Log in" in texts
    assert "Language" in texts
    assert untranslated(html) == []


def test_pages_without_a_prefix_stay_chinese(client_for: ClientFor, world: World) -> None:
    html = client_for(world.dispatcher_a).get(url("web:queue", lang="zh-hans")).content.decode()
    assert "派遣队列" in html
    assert "Dispatch queue" not in html


def test_the_language_switch_sends_to_the_english_page(client_for: ClientFor, world: World) -> None:
    response = client_for(world.dispatcher_a).post(
        url("set_language", lang="zh-hans"), {"language": "en", "next": url("web:queue", lang="zh-hans")}
    )
    assert response.status_code == 302
    assert response["Location"] == url("web:queue")
