"""Fixtures of the translation tests: a signed-in client per persona (English pages live under /en/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.utils import translation

from tests.world import World
from yiwang.people.models import User


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    # LocaleMiddleware leaves the language of the last request active in the thread; an English
    # request must not turn later tests (and their reverse() calls) English.
    yield
    translation.deactivate()


@pytest.fixture
def client_for(world: World) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
