from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("活动与考勤")

    def ready(self) -> None:
        from . import demo, ledger_sheets

        ledger_sheets.register()
        demo.register()

        from branches import privacy as branch_privacy

        from . import privacy

        if privacy.export not in branch_privacy.EXPORTERS:
            branch_privacy.EXPORTERS.append(privacy.export)
            branch_privacy.ERASERS.append(privacy.erase)
