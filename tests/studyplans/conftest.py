"""Fixtures of the study plan tests: the rule checks registered, the shipped profiles present."""

from __future__ import annotations

import pytest

from assessments import plan_checks
from assessments.models import ProfileVersion, Rule, RuleProfile
from assessments.profiles_loader import load_builtin_profiles
from studyplans.checks import PLAN_CHECKS


@pytest.fixture(autouse=True)
def registered_plan_checks():
    # AssessmentsConfig.ready() is meant to do this; until it does, the tests register.
    if not PLAN_CHECKS:
        plan_checks.register()


@pytest.fixture(autouse=True)
def builtin_profiles(db):
    # A migration loads them; a transactional test elsewhere may have flushed the tables.
    if not RuleProfile.objects.filter(name="默认").exists():
        load_builtin_profiles(RuleProfile, Rule, ProfileVersion)
