from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = _("组织与党员")

    def ready(self) -> None:
        from . import ledger_roster

        ledger_roster.register()
