"""Fixtures of the API tests: an API client per persona."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests.world import World
from yiwang.people.models import User


@pytest.fixture
def client_for(world: World) -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
