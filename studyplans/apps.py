from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyplansConfig(AppConfig):
    name = "studyplans"
    verbose_name = _("学习计划")
