"""Object permissions as predicates (django-rules); they read the same scope as the selectors."""

from __future__ import annotations

import rules

from .models import Member, Organization
from .selectors import members_editable_by, scope_for


@rules.predicate
def can_read_org(user, org: Organization | None) -> bool:
    return org is not None and scope_for(user).can_read_path(org.path)


@rules.predicate
def can_write_org(user, org: Organization | None) -> bool:
    return org is not None and scope_for(user).can_write_path(org.path)


@rules.predicate
def can_write_member(user, member: Member | None) -> bool:
    return member is not None and members_editable_by(user).filter(pk=member.pk).exists()


@rules.predicate
def is_admin(user) -> bool:
    return scope_for(user).is_admin


rules.add_perm("branches.view_org", can_read_org)
rules.add_perm("branches.change_org", can_write_org)
rules.add_perm("branches.change_member", can_write_member)
rules.add_perm("branches.move_org", is_admin)
rules.add_perm("branches.import_ledger", rules.is_authenticated & (is_admin | can_write_org))
