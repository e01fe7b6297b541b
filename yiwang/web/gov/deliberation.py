"""Pages of 村民议事 (issue 9)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path

from yiwang.web.access import page_view


@page_view("deliberation:index")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/gov/deliberation/index.html")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
]
