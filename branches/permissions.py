"""Who may change what: the one write policy the services call before they write.

A write is authorized against everything it touches (../shared/STYLE.md): the target, and
what the change reaches — the user linked to a member (a log-in carries that user's
powers), a new parent, the roles a transfer would end, the member's other organizations.

Every check takes the actor as `by`. `by=None` is the system itself (the command line, the
demo loader, migrations): there is no person to authorize. Refusals raise `WriteDenied`, a
ValidationError, so the pages that already show a service's messages show the reason, in
Chinese, naming who can do it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Member, Organization, Reviewer, Role, User
from .selectors import Scope, scope_for


class WriteDenied(ValidationError):
    """The actor may not make this change (as opposed to the change being invalid)."""


ADMIN_ONLY = gettext_lazy("系统管理员")


def _scope(by: User | None) -> Scope | None:
    """None when no check applies (system caller or superuser)."""
    if by is None:
        return None
    scope = scope_for(by)
    return None if scope.is_admin else scope


def _who_manages(org: Organization) -> str:
    return _("%(org)s或其上级组织的书记、委员，或系统管理员") % {"org": org.name}


def check_org_write(*, by: User | None, organization: Organization) -> None:
    scope = _scope(by)
    if scope is not None and not scope.can_write_path(organization.path):
        raise WriteDenied(
            _("您不能修改%(org)s：只有%(who)s可以修改")
            % {"org": organization.name, "who": _who_manages(organization)}
        )


def check_org_create(*, by: User | None, parent: Organization | None) -> None:
    scope = _scope(by)
    if scope is None:
        return
    if parent is None:
        raise WriteDenied(_("只有%(who)s可以添加顶级组织") % {"who": ADMIN_ONLY})
    check_org_write(by=by, organization=parent)


def check_org_move(
    *, by: User | None, organization: Organization, new_parent: Organization
) -> None:
    """Moving takes the subtree out of its parent and into another: the actor must manage
    the organization's present parent and the new one, not only the organization."""
    scope = _scope(by)
    if scope is None:
        return
    parent = Organization.objects.get_parent(organization)
    if parent is None:
        raise WriteDenied(_("只有%(who)s可以移动顶级组织") % {"who": ADMIN_ONLY})
    for org in (parent, new_parent):
        if not scope.can_write_path(org.path):
            raise WriteDenied(
                _("您不能把%(org)s移入或移出%(parent)s：只有%(who)s可以办理")
                % {"org": organization.name, "parent": org.name, "who": _who_manages(org)}
            )


def check_member_write(*, by: User | None, member: Member) -> None:
    """The member is on a roll of the actor's write scope today."""
    scope = _scope(by)
    if scope is None:
        return
    current = member.memberships.current().select_related("organization")
    if not any(scope.can_write_path(ms.organization.path) for ms in current):
        raise WriteDenied(
            _("%(name)s不在您管理的组织中：只有其所在组织的书记、委员或系统管理员可以修改")
            % {"name": member.name}
        )


def check_member_create(*, by: User | None, organization: Organization) -> None:
    check_org_write(by=by, organization=organization)


def _not_ended(qs):
    """Periods that still give power: open, ending later, or starting later."""
    return qs.filter(Q(end__isnull=True) | Q(end__gt=timezone.localdate())).select_related(
        "organization"
    )


def _outside(scope: Scope, org: Organization) -> bool:
    return not scope.can_write_path(org.path)


def check_roles_may_end(*, by: User | None, member: Member, roles: list[Role]) -> None:
    """A change that ends roles (a transfer) may end only roles the actor could end."""
    scope = _scope(by)
    if scope is None:
        return
    for role in roles:
        if _outside(scope, role.organization):
            raise WriteDenied(
                _(
                    "%(name)s在%(org)s担任%(kind)s，该职务超出您的管理范围，本次操作会结束它："
                    "请由%(who)s办理"
                )
                % {
                    "name": member.name,
                    "org": role.organization.name,
                    "kind": role.kind,
                    "who": _who_manages(role.organization),
                }
            )


def check_role_assign(*, by: User | None, member: Member, organization: Organization) -> None:
    check_member_write(by=by, member=member)
    check_org_write(by=by, organization=organization)


def check_role_end(*, by: User | None, role: Role) -> None:
    scope = _scope(by)
    if scope is not None and _outside(scope, role.organization):
        raise WriteDenied(
            _("您不能免去%(org)s的%(kind)s职务：只有%(who)s可以办理")
            % {
                "org": role.organization.name,
                "kind": role.kind,
                "who": _who_manages(role.organization),
            }
        )


def check_login_issue(*, by: User | None, member: Member) -> None:
    """Issuing or resetting a log-in hands over everything the linked user may do.

    A secretary may do it only for a user whose every power lies inside the secretary's
    write scope: not staff or superuser (nor holding any admin permission), every open role
    and every review assignment inside the scope, and the member on a roll there.
    """
    scope = _scope(by)
    if scope is None:
        return
    check_member_write(by=by, member=member)
    user = member.user
    if user is not None and (
        user.is_superuser or user.is_staff or user.user_permissions.exists() or user.groups.exists()
    ):
        raise WriteDenied(
            _("%(name)s的登录账号具有管理后台权限：只有%(who)s可以重置")
            % {"name": member.name, "who": ADMIN_ONLY}
        )
    # Each power the log-in carries, as (where, what) for the refusal message.
    powers: list[tuple[Organization, str]] = [
        (ms.organization, _("同时在%(org)s")) for ms in _not_ended(member.memberships.all())
    ]
    powers += [
        (role.organization, _("在%(org)s担任") + role.kind)
        for role in _not_ended(member.roles.all())
    ]
    if user is not None:
        powers += [
            (review.organization, _("是%(org)s的审阅人"))
            for review in Reviewer.objects.filter(user=user).select_related("organization")
        ]
    for org, what in powers:
        if _outside(scope, org):
            raise WriteDenied(
                _("%(name)s%(what)s，超出您的管理范围：登录账号只能由%(who)s签发")
                % {
                    "name": member.name,
                    "what": what % {"org": org.name},
                    "who": _who_manages(org),
                }
            )
