from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "学习园地 管理后台"
admin.site.site_title = "学习园地"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("ops/status/", views.ops_status, name="ops_status"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/preferences/", views.preferences, name="preferences"),
    path("admin/", admin.site.urls),
    path("", include("branches.urls")),
    path("", include("attendance.urls")),
    path("", include("assessments.urls")),
    path("", include("studyplans.urls")),
    path("", include("reports.urls")),
]
