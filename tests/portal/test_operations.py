"""What a deployer and a user see when something is off: Chinese 404/403/500 pages, the
favicon, request ids in responses and log lines, and the administrators' status page."""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid

import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import include, path, reverse

from assessments.models import PendingRefresh
from portal import status
from portal.celery import app as celery_app
from portal.request_id import HEADER, RequestIdFilter

# The access table of these routes (tests/test_routes.py): status page for administrators.
ROUTES = {
    "ops_status": {
        "admin": 200,
        "secretary_a": 404,
        "member_a": 404,
        "secretary_b": 404,
        "reviewer": 404,
        "other_reviewer": 404,
    },
}
PUBLIC = {"favicon"}


def _forbidden(request):
    raise PermissionDenied("internal reason that must not be shown")


@login_not_required
def _broken(request):
    raise RuntimeError("boom")


# A URLconf with the portal's routes plus two views that fail on purpose.
urlpatterns = [
    path("test/forbidden/", _forbidden),
    path("test/broken/", _broken),
    path("", include("portal.urls")),
]


# --- error pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "secretary_a"])
def test_an_unknown_address_gets_the_chinese_404_page_in_the_site_layout(cast, who):
    response = cast.client(who).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "/no-such-page/" in html
    assert "Not Found" not in html
    assert 'class="navbar' in html and "返回首页" in html  # the site's layout
    # The page names the request, so that a user's report finds the server's log lines.
    assert response[HEADER] in html


def test_a_page_outside_the_users_scope_gets_the_same_404_page(cast):
    response = cast.client("secretary_b").get(reverse("branches:org_detail", args=["JG-01-01"]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.urls("tests.portal.test_operations")
def test_a_refused_action_gets_the_chinese_403_page(cast):
    response = cast.client("member_a").get("/test/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and 'class="navbar' in html
    assert "internal reason" not in html and "Forbidden" not in html


@pytest.mark.urls("tests.portal.test_operations")
def test_a_server_error_gets_the_chinese_500_page_without_touching_the_database(
    db, django_assert_num_queries
):
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/test/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务暂时不可用" in html and "boom" not in html


def test_a_form_posted_without_its_csrf_token_gets_a_chinese_page(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html and "CSRF verification failed" not in html


# --- favicon ---------------------------------------------------------------------------------


def test_favicon_is_served_at_the_root_and_linked_from_every_page(db):
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    with open(finders.find("favicon.ico"), "rb") as fh:
        assert response.content == fh.read()
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in login and "favicon.ico" in login


# --- request ids -----------------------------------------------------------------------------


def test_every_response_carries_a_request_id_of_its_own(db):
    client = Client()
    first = client.get(reverse("login"))
    second = client.get(reverse("home"))  # a redirect to the log-in page carries one too
    assert second.status_code == 302
    assert len({first[HEADER], second[HEADER]}) == 2
    assert all(len(r[HEADER]) == 32 for r in (first, second))


def test_a_request_id_from_the_proxy_is_kept_and_a_malformed_one_replaced(db):
    client = Client()
    offered = "nginx-" + uuid.uuid4().hex
    assert client.get(reverse("login"), HTTP_X_REQUEST_ID=offered)[HEADER] == offered
    for bad in ["short", "a b c d e f g h", "x" * 65, "id\nforged log line"]:
        assert client.get(reverse("login"), HTTP_X_REQUEST_ID=bad)[HEADER] != bad


def test_log_lines_written_during_a_request_name_its_id(db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["portal"]["format"]))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-0123456789")
        logging.getLogger("portal.test").warning("outside any request")
    finally:
        root.removeHandler(handler)
    assert response[HEADER] == "req-0123456789"
    lines = stream.getvalue().splitlines()
    # Django's own "Not Found" warning, written while the request was handled.
    assert any("[req-0123456789]" in line and "Not Found" in line for line in lines), lines
    assert any("[-]" in line and "outside any request" in line for line in lines), lines


# --- the status page -------------------------------------------------------------------------


def test_the_status_page_is_for_administrators_only(cast):
    url = reverse("ops_status")
    for who, expected in ROUTES["ops_status"].items():
        assert cast.client(who).get(url).status_code == expected, who
    anonymous = cast.client(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


@pytest.fixture
def run_queues(settings):
    """Production-like routes, with queue names of this run only (Redis is shared)."""
    run = uuid.uuid4().hex[:10]
    names = {q: f"{q}-{run}" for q in ("interactive", "reports", "digests")}
    settings.CELERY_TASK_DEFAULT_QUEUE = names["interactive"]
    settings.CELERY_TASK_ROUTES = {
        "reports.tasks.*digest*": {"queue": names["digests"]},
        "reports.tasks.*": {"queue": names["reports"]},
    }
    # Celery builds its queues and router once per app (app.amqp, a cached property): drop
    # it before and after, so the routes of this test neither come from an earlier test nor
    # stay for a later one (tests/portal/test_celery_worker.py's worker would wait on the
    # wrong queue).
    celery_app.__dict__.pop("amqp", None)
    yield names
    celery_app.__dict__.pop("amqp", None)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(match=f"*{run}*"):
        client.delete(key)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_the_status_page_shows_beats_last_tick_each_queue_and_the_outbox(cast, run_queues):
    start = dt.datetime(2027, 1, 2, 2, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        status.beat_tick_record()  # what beat does after each pass
        # Two report tasks and a digest, queued through Celery's real producer on Redis.
        celery_app.send_task("reports.tasks.generate_and_send", queue=run_queues["reports"])
        PendingRefresh.objects.create(session_id=1)
    with time_machine.travel(start + dt.timedelta(seconds=95), tick=False):
        celery_app.send_task("reports.tasks.generate_and_send", queue=run_queues["reports"])
        celery_app.send_task("reports.tasks.send_weekly_digests", queue=run_queues["digests"])
    with time_machine.travel(start + dt.timedelta(minutes=3, seconds=5), tick=False):
        response = cast.client("admin").get(reverse("ops_status"))
        assert response.status_code == 200
        queues = {q.name: q for q in response.context["queues"].queues}
        html = response.content.decode()
    assert queues[run_queues["reports"]].length == 2
    assert queues[run_queues["reports"]].oldest_age_seconds == pytest.approx(185, abs=1)
    assert queues[run_queues["digests"]].length == 1
    assert queues[run_queues["interactive"]].length == 0
    assert "3分05秒" in html and "1分30秒" in html  # oldest report task; the digest
    # beat ticked 185 s ago: over the 60 s limit, so the page says it stopped.
    assert "已停止" in html and "2027-01-02 10:00:00" in html  # shown in Asia/Shanghai
    assert "待刷新的活动：1" in html
    # No worker consumes this run's queues: the page says so.
    assert queues[run_queues["reports"]].consumers == []
    assert "没有工作进程在处理这个队列" in html


def test_a_beat_that_just_ticked_is_shown_as_running(cast):
    status.beat_tick_record()
    html = cast.client("admin").get(reverse("ops_status")).content.decode()
    assert "正常" in html and "已停止" not in html and "未运行" not in html
