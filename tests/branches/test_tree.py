from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from branches import services
from branches.models import Organization, OrgType
from branches.selectors import member_counts
from tests.conftest import refreshed
from tests.factories import make_member, make_org


def test_subtree_of_an_organ_committee_is_one_query(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = [o.code for o in cast.root.subtree()]
    assert codes == ["JG", "JG-01", "JG-01-01", "JG-01-01-1", "JG-01-02"]


def test_subtree_does_not_leak_into_a_sibling_root(cast):
    assert "QT-01" not in {o.code for o in cast.root.subtree()}
    assert {o.code for o in cast.other_root.subtree()} == {"QT", "QT-01"}


@pytest.mark.parametrize(
    ("child", "parent", "allowed"),
    [
        (OrgType.GROUP, OrgType.BRANCH, True),
        (OrgType.GROUP, OrgType.GENERAL_BRANCH, False),
        (OrgType.BRANCH, OrgType.GENERAL_BRANCH, True),
        (OrgType.BRANCH, OrgType.ORGAN_COMMITTEE, True),
        (OrgType.GENERAL_BRANCH, OrgType.BRANCH, False),
        (OrgType.PARTY_COMMITTEE, OrgType.BRANCH, False),
        (OrgType.BRANCH, OrgType.BRANCH, False),
    ],
)
def test_a_child_must_sit_below_its_parent_type(db, child, parent, allowed):
    top = make_org("P", parent if parent != OrgType.BRANCH else OrgType.BRANCH)
    if allowed:
        assert Organization.objects.get_parent(make_org("C", child, top)).pk == top.pk
    else:
        with pytest.raises(ValidationError) as exc:
            make_org("C", child, top)
        assert "type" in exc.value.error_dict
        assert not Organization.objects.filter(code="C").exists()


def test_a_group_cannot_be_a_root(db):
    with pytest.raises(ValidationError, match="党小组必须设在党支部之下"):
        make_org("G", OrgType.GROUP)


def test_duplicate_code_is_refused_in_chinese(cast):
    with pytest.raises(ValidationError) as exc:
        make_org("JG-01-01", OrgType.BRANCH, cast.general)
    assert "编码 JG-01-01 已被使用" in exc.value.message_dict["code"]


def test_moving_a_subtree_carries_descendants_and_members(cast):
    new_general = make_org("JG-02", OrgType.GENERAL_BRANCH, cast.root)
    services.organization_move(organization=refreshed(cast.branch_a), new_parent=new_general)
    assert {o.code for o in refreshed(new_general).subtree()} == {"JG-02", "JG-01-01", "JG-01-01-1"}
    assert {o.code for o in refreshed(cast.general).subtree()} == {"JG-01", "JG-01-02"}
    group = refreshed(cast.group_a1)
    assert group.depth == 4 and Organization.objects.get_parent(group).code == "JG-01-01"
    assert refreshed(cast.general).numchild == 1
    # The member in the group is now counted under the new 党总支.
    counts = member_counts(
        organizations=[refreshed(new_general), refreshed(cast.general)], day=dt.date.today()
    )
    assert counts[new_general.pk] == 2
    assert counts[cast.general.pk] == 2


def test_a_subtree_cannot_move_below_itself(cast):
    with pytest.raises(ValidationError, match="不能把组织移动到它自己或它的下级组织之下"):
        services.organization_move(
            organization=refreshed(cast.general), new_parent=refreshed(cast.branch_a)
        )


def test_profile_is_inherited_down_the_tree_unless_overridden(cast):
    assert refreshed(cast.group_a1).effective_profile_name() == "默认"
    services.organization_update(organization=refreshed(cast.root), profile_name="福建省住建厅机关")
    assert refreshed(cast.group_a1).effective_profile_name() == "福建省住建厅机关"
    services.organization_update(organization=refreshed(cast.branch_a), profile_name="历城区")
    assert refreshed(cast.group_a1).effective_profile_name() == "历城区"
    assert refreshed(cast.branch_b).effective_profile_name() == "福建省住建厅机关"


def test_member_counts_roll_up_with_one_query_whatever_the_tree_size(
    cast, django_assert_num_queries
):
    for i in range(5):
        branch = make_org(f"JG-01-9{i}", OrgType.BRANCH, refreshed(cast.general))
        for _ in range(3):
            make_member(branch)
    orgs = list(refreshed(cast.root).subtree())
    with django_assert_num_queries(1):
        counts = member_counts(organizations=orgs, day=dt.date.today())
    by_code = {o.code: counts[o.pk] for o in orgs}
    assert by_code["JG"] == 4 + 15
    assert by_code["JG-01-01"] == 2  # the secretary and the group member
    assert by_code["JG-01-01-1"] == 1
    assert by_code["JG-01-90"] == 3


def test_changing_type_of_an_organization_with_members_is_refused(cast):
    with pytest.raises(ValidationError):
        services.organization_update(
            organization=refreshed(cast.branch_b), type=OrgType.GENERAL_BRANCH
        )
    assert refreshed(cast.branch_b).type == OrgType.BRANCH
