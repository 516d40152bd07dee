"""Every view needs a log-in unless it is on the short public list (issue 12, item 2)."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path

PUBLIC = {"healthz", "login", "attendance:checkin", "favicon"}


def _views(patterns, ns: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue
            yield from _views(p.url_patterns, f"{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern) and p.name:
            yield ns + p.name, p.callback


def test_only_the_public_views_are_open_to_anonymous_visitors():
    open_views = {
        name
        for name, view in _views(get_resolver().url_patterns)
        if not getattr(view, "login_required", True)
    }
    assert open_views == PUBLIC


def _forgotten(request):
    return HttpResponse("secret")


urlpatterns = [
    path("forgotten/", _forgotten),
    path("accounts/login/", _forgotten, name="login"),
]


@override_settings(ROOT_URLCONF=__name__)
def test_a_view_without_any_decorator_still_asks_for_a_log_in(db):
    response = Client().get("/forgotten/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/forgotten/")


def test_the_admin_keeps_its_own_log_in_page(db):
    client = Client()
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/healthz?only=database").status_code == 200
