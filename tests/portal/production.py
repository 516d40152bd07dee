"""portal.settings.production as a module, imported afresh with a given environment."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from celery import Celery

# The least that production settings need; a test adds or overrides what it checks.
REQUIRED_ENV = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "xuexi.example.cn",
    "DATABASE_URL": "postgres://portal:pw@db:5432/portal",
}


def production_settings(monkeypatch, **env: str) -> ModuleType:
    for key, value in {**REQUIRED_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    sys.modules.pop("portal.settings.production", None)
    try:
        return importlib.import_module("portal.settings.production")
    finally:
        sys.modules.pop("portal.settings.production", None)


def production_app(monkeypatch) -> Celery:
    """A Celery app configured like production: portal.settings.production, CELERY_*."""
    app = Celery("production-routes", set_as_current=False)
    app.config_from_object(production_settings(monkeypatch), namespace="CELERY")
    return app
