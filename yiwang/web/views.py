from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from yiwang.grids.models import Division, Grid


def home(request: HttpRequest) -> HttpResponse:
    """The start page: what this installation holds, and where to go next."""
    user = request.user
    context = {
        "divisions": Division.objects.visible_to(user).count() if user.is_authenticated else None,
        "grids": Grid.objects.visible_to(user).count() if user.is_authenticated else None,
    }
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
