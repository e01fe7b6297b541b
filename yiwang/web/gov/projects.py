"""Pages of 攻坚项目 (issue 9)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path

from yiwang.web.access import page_view


@page_view("projects:index")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/gov/projects/index.html")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
]
