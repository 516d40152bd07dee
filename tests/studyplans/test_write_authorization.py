"""Plan services check the actor themselves, whatever page calls them (issue 12, item 1)."""

from __future__ import annotations

import pytest

from branches.permissions import WriteDenied
from studyplans import services
from studyplans.models import AnnualPlan, PersonalPlan, PlanStatus
from tests.conftest import refreshed
from tests.studyplans.helpers import make_plan


def test_a_secretary_cannot_write_or_submit_another_branchs_plan(cast):
    with pytest.raises(WriteDenied, match="甲支部"):
        make_plan(refreshed(cast.branch_a), cast.secretary_b)
    assert not AnnualPlan.objects.exists()
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    with pytest.raises(WriteDenied):
        services.plan_submit(plan=plan, by=cast.secretary_b)
    with pytest.raises(WriteDenied):
        services.plan_schedule(plan=plan, by=cast.reviewer)
    assert AnnualPlan.objects.get().status == PlanStatus.DRAFT


def test_a_branch_cannot_file_or_return_its_own_plan(cast):
    plan = make_plan(refreshed(cast.branch_a), cast.secretary_a)
    services.plan_submit(plan=plan, by=cast.secretary_a)
    with pytest.raises(WriteDenied, match="只有甲支部的上级组织"):
        services.plan_file(plan=plan, by=cast.secretary_a)
    with pytest.raises(WriteDenied):
        services.plan_return(plan=plan, by=cast.secretary_b, comment="重写")
    assert AnnualPlan.objects.get().status == PlanStatus.SUBMITTED
    assert services.plan_file(plan=plan, by=cast.reviewer).status == PlanStatus.FILED


def test_only_the_members_secretary_acknowledges_a_personal_plan(cast):
    plan = services.personal_plan_save(
        member=cast.member_a_member, year=2026, goals="学习党章", hours_target=100, submit=True
    )
    with pytest.raises(WriteDenied, match="甲党员不在您管理的组织中"):
        services.personal_plan_acknowledge(plan=plan, by=cast.secretary_b)
    assert PersonalPlan.objects.get().acknowledged_by is None
    services.personal_plan_acknowledge(plan=plan, by=cast.secretary_a)
    assert PersonalPlan.objects.get().acknowledged_by == cast.secretary_a
