from django.urls import include, path

from yiwang.core.security.views import PasswordChangeView
from yiwang.web.gov import campaigns, deliberation, enterprise, mediation, projects
from yiwang.web.views import cases, dashboard, inbox, intake, mapview, pages, phone, queue, reports

app_name = "web"
urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", pages.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        PasswordChangeView.as_view(template_name="web/password_change.html"),
        name="password_change",
    ),
    path("security/", include("yiwang.core.security.urls")),  # web:security:otp_enrol / otp_verify
    path("map/", mapview.map_page, name="map"),
    path("map/data.json", mapview.map_data, name="map_data"),
    path("map/grids/<str:code>/", mapview.map_grid, name="map_grid"),
    path("queue/", queue.queue, name="queue"),
    path("queue/dispatch/", queue.queue_dispatch, name="queue_dispatch"),
    path("queue/merge/", queue.queue_merge, name="queue_merge"),
    path("intake/", intake.intake, name="intake"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/actions/<str:name>/", cases.case_action, name="case_action"),
    path("cases/<int:pk>/reveal-phone/", cases.reveal_phone, name="case_reveal_phone"),
    path("attachments/<int:pk>/", cases.attachment, name="attachment"),
    path("phone/", phone.phone, name="phone"),
    path("phone/verify/<int:pk>/", phone.phone_verify, name="phone_verify"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export.xlsx", dashboard.dashboard_export, name="dashboard_export"),
    path("unsatisfied/", dashboard.unsatisfied, name="unsatisfied"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<int:pk>/download/", reports.report_download, name="report_download"),
    path("gov/deliberation/", include((deliberation.urlpatterns, "deliberation"))),
    path("gov/mediation/", include((mediation.urlpatterns, "mediation"))),
    path("gov/projects/", include((projects.urlpatterns, "projects"))),
    path("gov/enterprise/", include((enterprise.urlpatterns, "enterprise"))),
    path("gov/campaigns/", include((campaigns.urlpatterns, "campaigns"))),
]
