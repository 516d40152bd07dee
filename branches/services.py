"""Writes to the tree and the roster. Each is atomic and raises ValidationError in Chinese."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import permissions
from .models import (
    Exemption,
    Member,
    Membership,
    Organization,
    Role,
    User,
    role_error_for_org,
    type_error_for_parent,
)

ORG_FIELDS = ("name", "type", "profile_name", "active_from", "active_until")


def organization_create(
    *,
    parent: Organization | None,
    code: str,
    name: str,
    type: str,
    by: User | None = None,
    **fields: Any,
) -> Organization:
    permissions.check_org_create(by=by, parent=parent)
    error = type_error_for_parent(type, parent.type if parent else None)
    if error:
        raise ValidationError({"type": error})
    if Organization.objects.filter(code=code).exists():
        raise ValidationError({"code": _("编码 %(code)s 已被使用") % {"code": code}})
    org = Organization(code=code, name=name, type=type, **fields)
    org.full_clean(exclude=["path", "depth", "numchild"], validate_unique=False)
    try:
        with transaction.atomic():
            if parent is None:
                return Organization.objects.add_root(instance=org)
            # Re-read the parent inside the transaction: treebeard computes the new path
            # from its numchild, and a concurrent insert would make it stale.
            parent = Organization.objects.select_for_update().get(pk=parent.pk)
            return Organization.objects.add_child(parent, instance=org)
    except IntegrityError as exc:
        raise ValidationError({"code": _("编码 %(code)s 已被使用") % {"code": code}}) from exc


def organization_update(
    *, organization: Organization, by: User | None = None, **fields: Any
) -> Organization:
    permissions.check_org_write(by=by, organization=organization)
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {unknown}")
    new_type = fields.get("type", organization.type)
    if new_type != organization.type:
        parent = Organization.objects.get_parent(organization)
        error = type_error_for_parent(new_type, parent.type if parent else None)
        if error is None:
            for child in Organization.objects.get_children(organization):
                error = type_error_for_parent(child.type, new_type)
                if error:
                    break
        if (
            error is None
            and organization.memberships.exists()
            and new_type
            not in (
                "党支部",
                "党小组",
            )
        ):
            error = _("该组织有党员，类型只能是党支部或党小组")
        if error:
            raise ValidationError({"type": error})
    for key, value in fields.items():
        setattr(organization, key, value)
    organization.full_clean(exclude=["path", "depth", "numchild", "code"], validate_unique=False)
    organization.save(update_fields=list(fields))
    return organization


def organization_move(
    *, organization: Organization, new_parent: Organization, by: User | None = None
) -> Organization:
    """Move a whole subtree under a new parent; paths of every descendant follow in one update."""
    permissions.check_org_move(by=by, organization=organization, new_parent=new_parent)
    if new_parent.path.startswith(organization.path):
        raise ValidationError({"parent": _("不能把组织移动到它自己或它的下级组织之下")})
    error = type_error_for_parent(organization.type, new_parent.type)
    if error:
        raise ValidationError({"parent": error})
    with transaction.atomic():
        Organization.objects.move(organization, new_parent, pos="last-child")
    organization.refresh_from_db()
    return organization


def member_create(
    *,
    organization: Organization,
    start: dt.date | None,
    member_no: str,
    name: str,
    by: User | None = None,
    **fields: Any,
) -> Member:
    permissions.check_member_create(by=by, organization=organization)
    if not organization.holds_members:
        raise ValidationError(
            {
                "organization": _("党员只能编入党支部或党小组，%(name)s 是%(type)s")
                % {"name": organization.name, "type": organization.type}
            }
        )
    if Member.objects.filter(member_no=member_no).exists():
        raise ValidationError({"member_no": _("编号 %(no)s 已被使用") % {"no": member_no}})
    member = Member(member_no=member_no, name=name, **fields)
    member.full_clean(exclude=["user"], validate_unique=False)
    try:
        with transaction.atomic():
            member.save()
            Membership.objects.create(member=member, organization=organization, start=start)
    except IntegrityError as exc:
        raise ValidationError({"member_no": _("编号 %(no)s 已被使用") % {"no": member_no}}) from exc
    return member


def member_update(*, member: Member, by: User | None = None, **fields: Any) -> Member:
    permissions.check_member_write(by=by, member=member)
    for key, value in fields.items():
        setattr(member, key, value)
    member.full_clean(exclude=["user", "member_no"])
    member.save(update_fields=list(fields))
    return member


def member_transfer(
    *, member: Member, to: Organization | None, on: dt.date, by: User | None = None
) -> Membership | None:
    """转出 at `on` and, when `to` is given, 转入 there on the same day.

    History is never edited: the open membership is closed at `on`. Roles at organizations
    that do not contain the new one end the same day.
    The actor must manage the member and every role the transfer would end (as role_end).
    """
    permissions.check_member_write(by=by, member=member)
    if to is not None and not to.holds_members:
        raise ValidationError({"to": _("党员只能转入党支部或党小组")})
    with transaction.atomic():
        # Lock the member so two transfers cannot both close the same membership.
        Member.objects.select_for_update().get(pk=member.pk)
        current = member.memberships.filter(end__isnull=True).select_related("organization").first()
        if current is None:
            raise ValidationError(_("该党员已转出，没有可转出的组织关系"))
        if to is not None and current.organization_id == to.pk:
            raise ValidationError({"to": _("该党员已在 %(name)s") % {"name": to.name}})
        if current.start is not None and on <= current.start:
            raise ValidationError(
                {
                    "on": _("转接日期必须晚于转入当前组织的日期 %(d)s")
                    % {"d": current.start.isoformat()}
                }
            )
        open_roles = Role.objects.filter(member=member, end__isnull=True).select_related(
            "organization"
        )
        ending = [
            role
            for role in open_roles
            if to is None or not to.path.startswith(role.organization.path)
        ]
        permissions.check_roles_may_end(by=by, member=member, roles=ending)
        current.end = on
        current.save(update_fields=["end"])
        for role in ending:
            if role.start is not None and role.start >= on:
                role.delete()
            else:
                role.end = on
                role.save(update_fields=["end"])
        if to is None:
            return None
        return Membership.objects.create(member=member, organization=to, start=on)


def role_assign(
    *,
    member: Member,
    organization: Organization,
    kind: str,
    start: dt.date | None,
    by: User | None = None,
) -> Role:
    permissions.check_role_assign(by=by, member=member, organization=organization)
    error = role_error_for_org(kind, organization.type)
    if error:
        raise ValidationError({"kind": error})
    current = member.memberships.filter(end__isnull=True).select_related("organization").first()
    if current is None or not current.organization.path.startswith(organization.path):
        raise ValidationError({"organization": _("只能在党员所在组织或其上级组织任职")})
    role = Role(member=member, organization=organization, kind=kind, start=start)
    role.full_clean()
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                "kind": _("%(name)s 已担任 %(org)s %(kind)s")
                % {"name": member.name, "org": organization.name, "kind": kind}
            }
        ) from exc
    return role


def role_end(*, role: Role, on: dt.date, by: User | None = None) -> Role:
    permissions.check_role_end(by=by, role=role)
    if role.end is not None:
        raise ValidationError(_("该职务已于 %(d)s 结束") % {"d": role.end.isoformat()})
    if role.start is not None and on <= role.start:
        raise ValidationError({"end": _("结束日期必须晚于开始日期")})
    role.end = on
    role.save(update_fields=["end"])
    return role


def exemption_add(
    *,
    member: Member,
    kind: str,
    start: dt.date,
    end: dt.date | None,
    note: str = "",
    by: User | None = None,
) -> Exemption:
    permissions.check_member_write(by=by, member=member)
    exemption = Exemption(member=member, kind=kind, start=start, end=end, note=note)
    exemption.full_clean()
    exemption.save()
    return exemption


def member_issue_login(*, member: Member, by: User | None = None) -> tuple[User, str]:
    """Create (or reset) the member's log-in with a one-time password they must change.

    The password expires after ONE_TIME_PASSWORD_HOURS; the actor must hold every power
    the linked user has (permissions.check_login_issue).
    """
    password = _one_time_password()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        # Checked on the locked row: the link to a user cannot change between check and reset.
        permissions.check_login_issue(by=by, member=member)
        user = member.user
        if user is None:
            username = member.member_no
            if User.objects.filter(username=username).exists():
                raise ValidationError(_("用户名 %(u)s 已被占用") % {"u": username})
            user = User(username=username, first_name=member.name)
            member.user = user
        user.set_password(password)
        user.must_change_password = True
        user.one_time_password_expires_at = timezone.now() + dt.timedelta(
            hours=settings.ONE_TIME_PASSWORD_HOURS
        )
        user.is_active = True
        user.save()
        member.save(update_fields=["user"])
    return user, password


def _one_time_password() -> str:
    # No look-alike characters: secretaries read these out over the phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def today() -> dt.date:
    return timezone.localdate()
