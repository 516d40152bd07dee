from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("考评")

    def ready(self) -> None:
        from branches.models import PROFILE_NAME_CHECKS

        def profile_exists(name: str) -> bool:
            from .models import RuleProfile

            return RuleProfile.objects.filter(name=name).exists()

        PROFILE_NAME_CHECKS.append(profile_exists)
