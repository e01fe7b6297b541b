from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("yiwang.api.v1.urls")),
    path("open311/v2/", include("yiwang.api.open311.urls")),
]
