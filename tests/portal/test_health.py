from __future__ import annotations

from django.urls import reverse


def test_healthz_checks_database_and_redis(db, client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz_reports_a_dead_redis_with_503(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


def test_a_load_balancer_can_check_the_database_alone(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"), {"only": "database"})
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}
