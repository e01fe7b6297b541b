"""Pages of 政企直通车 (issue 9)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path

from yiwang.web.access import page_view


@page_view("enterprise:index")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/gov/enterprise/index.html")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
]
