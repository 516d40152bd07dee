"""The 组织 and 党员 sheets of the ledger: the roster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from .ledger import ImportContext, Sheet, SheetHandler, choice, parse_date, register_sheet
from .models import (
    COMMITTEE_KINDS,
    CadreLevel,
    Category,
    Member,
    Membership,
    Organization,
    OrgType,
    Role,
    RoleKind,
    is_valid_code,
    mobile_validator,
    profile_name_error,
    type_error_for_parent,
)
from .selectors import scope_for

ORG_SHEET = "组织"
MEMBER_SHEET = "党员"
# The duties the ledger's 职务 column may name, in the order RoleKind lists them.
LEDGER_ROLES = tuple(k for k in RoleKind if k in COMMITTEE_KINDS or k == RoleKind.GROUP_LEADER)


@dataclass
class OrgRow:
    row: int
    code: str
    name: str
    type: str
    parent_code: str
    profile_name: str


@dataclass
class MemberRow:
    row: int
    member_no: str
    name: str
    org_code: str
    role: str
    category: str
    cadre_level: str
    start: dt.date | None
    end: dt.date | None
    mobile: str


def _org_types(ctx: ImportContext) -> dict[str, tuple[str, str | None]]:
    """code -> (type, parent code) for the organizations after this import: file over DB."""
    return ctx.data["org_types"]


def validate_orgs(ctx: ImportContext, sheet: Sheet) -> None:
    rows: dict[str, OrgRow] = {}
    for r in sheet.rows:
        code, name, type_ = r.text("编码"), r.text("名称"), r.text("类型")
        parent_code, profile = r.text("上级编码"), r.text("规则方案")
        bad = False
        for column, value in (("编码", code), ("名称", name), ("类型", type_)):
            if not value:
                ctx.error(sheet.name, r.number, column, _("必填项为空"))
                bad = True
        if code and not is_valid_code(code):
            ctx.error(
                sheet.name,
                r.number,
                "编码",
                _("编码「%(c)s」只能包含字母、数字、-、_ 和 .") % {"c": code},
            )
            bad = True
        if type_:
            _ok, err = choice(type_, OrgType.values, _("类型"))
            if err:
                ctx.error(sheet.name, r.number, "类型", err)
                bad = True
        if len(name) > 100:
            ctx.error(sheet.name, r.number, "名称", _("名称不能超过 100 个字"))
            bad = True
        profile_error = profile_name_error(profile)
        if profile_error:
            ctx.error(sheet.name, r.number, "规则方案", profile_error)
            bad = True
        if code in rows:
            ctx.error(
                sheet.name,
                r.number,
                "编码",
                _("编码「%(c)s」与第%(n)d行重复") % {"c": code, "n": rows[code].row},
            )
            continue
        if code and not bad:
            rows[code] = OrgRow(r.number, code, name, type_, parent_code, profile)
        elif code:
            rows[code] = OrgRow(r.number, code, name, "", parent_code, profile)

    existing = {
        o.code: o
        for o in Organization.objects.filter(
            code__in=list(rows) + [r.parent_code for r in rows.values()]
        )
    }
    parent_of_existing = _parent_codes(list(existing.values()))
    org_types: dict[str, tuple[str, str | None]] = {
        code: (o.type, parent_of_existing.get(code)) for code, o in existing.items()
    }
    for code, row in rows.items():
        org_types[code] = (row.type, row.parent_code or None)

    scope = scope_for(ctx.user)
    for code, row in rows.items():
        if not row.type:
            continue
        if row.parent_code:
            if row.parent_code == code:
                ctx.error(sheet.name, row.row, "上级编码", _("上级编码不能是自己"))
                continue
            if row.parent_code not in org_types:
                ctx.error(
                    sheet.name,
                    row.row,
                    "上级编码",
                    _("上级组织「%(c)s」既不在本表中也不在系统中") % {"c": row.parent_code},
                )
                continue
            parent_type = org_types[row.parent_code][0]
            if parent_type:
                err = type_error_for_parent(row.type, parent_type)
                if err:
                    ctx.error(sheet.name, row.row, "类型", err)
        else:
            err = type_error_for_parent(row.type, None)
            if err:
                ctx.error(sheet.name, row.row, "上级编码", err)
        if _has_cycle(code, org_types):
            ctx.error(sheet.name, row.row, "上级编码", _("上级关系形成循环"))
            continue
        if not scope.is_admin and not _org_in_write_scope(code, org_types, existing, scope):
            ctx.error(
                sheet.name, row.row, "编码", _("组织「%(c)s」不在您管理的范围内") % {"c": code}
            )
    ctx.data["org_rows"] = rows
    ctx.data["org_types"] = org_types


def _parent_codes(orgs: list[Organization]) -> dict[str, str | None]:
    parent_paths = {o.path[: -Organization.steplen] for o in orgs if o.depth > 1}
    by_path = dict(Organization.objects.filter(path__in=parent_paths).values_list("path", "code"))
    return {o.code: by_path.get(o.path[: -Organization.steplen]) for o in orgs}


def _has_cycle(code: str, org_types: dict[str, tuple[str, str | None]]) -> bool:
    seen = {code}
    parent = org_types.get(code, ("", None))[1]
    while parent:
        if parent in seen:
            return True
        seen.add(parent)
        parent = org_types.get(parent, ("", None))[1]
    return False


def _org_in_write_scope(code, org_types, existing, scope) -> bool:
    """An existing organization must be editable; a new one must hang below an editable one."""
    if code in existing:
        return scope.can_write_path(existing[code].path)
    parent = org_types.get(code, ("", None))[1]
    while parent:
        if parent in existing:
            return scope.can_write_path(existing[parent].path)
        parent = org_types.get(parent, ("", None))[1]
    return False


def apply_orgs(ctx: ImportContext) -> dict[str, int]:
    from .services import organization_create, organization_move

    rows: dict[str, OrgRow] = ctx.data["org_rows"]
    created = updated = moved = 0
    # Parents before children: order by depth in the resulting tree.
    org_types = ctx.data["org_types"]

    def depth(code: str) -> int:
        d, parent = 0, org_types.get(code, ("", None))[1]
        while parent:
            d, parent = d + 1, org_types.get(parent, ("", None))[1]
        return d

    for code in sorted(rows, key=lambda c: (depth(c), rows[c].row)):
        row = rows[code]
        org = Organization.objects.filter(code=code).first()
        parent = Organization.objects.get(code=row.parent_code) if row.parent_code else None
        if org is None:
            organization_create(
                parent=parent,
                code=code,
                name=row.name,
                type=row.type,
                profile_name=row.profile_name,
            )
            created += 1
            continue
        changed = [
            f
            for f, v in (("name", row.name), ("type", row.type), ("profile_name", row.profile_name))
            if getattr(org, f) != v
        ]
        if changed:
            for f in changed:
                setattr(org, f, getattr(row, f))
            org.save(update_fields=changed)
            updated += 1
        current_parent = Organization.objects.get_parent(org)
        if parent is not None and (current_parent is None or current_parent.pk != parent.pk):
            organization_move(organization=org, new_parent=parent)
            moved += 1
        elif parent is None and current_parent is not None:
            ctx.error(ORG_SHEET, row.row, "上级编码", _("不能通过导入把已有组织改为根组织"))
    return {"created": created, "updated": updated, "moved": moved}


def validate_members(ctx: ImportContext, sheet: Sheet) -> None:
    from django.core.exceptions import ValidationError

    org_types = ctx.data.get("org_types", {})
    rows: dict[str, MemberRow] = {}
    org_codes_needed = set()
    for r in sheet.rows:
        errs: list[tuple[str, str]] = []
        no, name, org_code = r.text("编号"), r.text("姓名"), r.text("所在组织编码")
        for column, value in (("编号", no), ("姓名", name), ("所在组织编码", org_code)):
            if not value:
                errs.append((column, _("必填项为空")))
        if no and not is_valid_code(no):
            errs.append(("编号", _("编号「%(c)s」只能包含字母、数字、-、_ 和 .") % {"c": no}))
        role = r.text("职务")
        if role:
            _v, err = choice(role, LEDGER_ROLES, _("职务"))
            if err:
                errs.append(("职务", err))
        category = r.text("类别") or Category.FULL
        _v, err = choice(category, Category.values, _("类别"))
        if err:
            errs.append(("类别", err))
        cadre = r.text("干部层级")
        _v, err = choice(cadre, CadreLevel.values, _("干部层级"))
        if err:
            errs.append(("干部层级", err))
        start, err = parse_date(r.text("转入日期"), r.values.get("转入日期"))
        if err:
            errs.append(("转入日期", err))
        end, err = parse_date(r.text("转出日期"), r.values.get("转出日期"))
        if err:
            errs.append(("转出日期", err))
        if start and end and end <= start:
            errs.append(("转出日期", _("转出日期必须晚于转入日期")))
        mobile = r.text("手机")
        if mobile:
            try:
                mobile_validator(mobile)
            except ValidationError as exc:
                errs.append(("手机", str(exc.messages[0])))
        if no in rows:
            errs.append(("编号", _("编号「%(c)s」与第%(n)d行重复") % {"c": no, "n": rows[no].row}))
        for column, message in errs:
            ctx.error(sheet.name, r.number, column, message)
        if not errs:
            rows[no] = MemberRow(
                r.number, no, name, org_code, role, category, cadre, start, end, mobile
            )
            org_codes_needed.add(org_code)

    db_orgs = {o.code: o for o in Organization.objects.filter(code__in=org_codes_needed)}
    scope = scope_for(ctx.user)
    org_paths_ok: dict[str, bool] = {}
    for no, row in list(rows.items()):
        org_type = org_types.get(
            row.org_code, (db_orgs[row.org_code].type, None) if row.org_code in db_orgs else None
        )
        if org_type is None:
            ctx.error(
                sheet.name,
                row.row,
                "所在组织编码",
                _("组织「%(c)s」既不在组织表中也不在系统中") % {"c": row.org_code},
            )
            del rows[no]
            continue
        if org_type[0] not in (OrgType.BRANCH, OrgType.GROUP):
            ctx.error(
                sheet.name,
                row.row,
                "所在组织编码",
                _("党员只能编入党支部或党小组，「%(c)s」是%(t)s")
                % {"c": row.org_code, "t": org_type[0]},
            )
            del rows[no]
            continue
        if row.role == RoleKind.GROUP_LEADER and org_type[0] != OrgType.GROUP:
            ctx.error(sheet.name, row.row, "职务", _("小组长必须编入党小组"))
        if not scope.is_admin:
            if row.org_code not in org_paths_ok:
                # A new organization was already checked by the 组织 sheet's scope check.
                org = db_orgs.get(row.org_code)
                org_paths_ok[row.org_code] = org is None or scope.can_write_path(org.path)
            if not org_paths_ok[row.org_code]:
                ctx.error(
                    sheet.name,
                    row.row,
                    "所在组织编码",
                    _("组织「%(c)s」不在您管理的范围内") % {"c": row.org_code},
                )

    existing = {m.member_no: m for m in Member.objects.filter(member_no__in=list(rows))}
    memberships: dict[int, list[Membership]] = {}
    for ms in Membership.objects.filter(member__in=existing.values()).select_related(
        "organization"
    ):
        memberships.setdefault(ms.member_id, []).append(ms)
    for no, row in rows.items():
        member = existing.get(no)
        if member is None:
            continue
        history = memberships.get(member.pk, [])
        plan = _membership_plan(row, history)
        if isinstance(plan, str):
            ctx.error(sheet.name, row.row, "转入日期", plan)
            continue
        open_ms = next((m for m in history if m.end is None), None)
        if (
            not scope.is_admin
            and open_ms is not None
            and open_ms.organization.code != row.org_code
            and not scope.can_write_path(open_ms.organization.path)
        ):
            ctx.error(
                sheet.name,
                row.row,
                "编号",
                _("党员「%(no)s」当前在%(org)s，不在您管理的范围内，须由对方转出")
                % {"no": no, "org": open_ms.organization.name},
            )
    ctx.data["member_rows"] = rows


def _membership_plan(row: MemberRow, history: list[Membership]) -> str | None:
    """None when the row can be applied to this history, else why not."""
    same = [m for m in history if m.organization.code == row.org_code and m.start == row.start]
    if same or not history:
        return None
    open_ms = next((m for m in history if m.end is None), None)
    if open_ms is None:
        latest = max(history, key=lambda m: m.end)
        if row.start is None or row.start < latest.end:
            return _("该党员已于 %(d)s 转出，重新转入须填写不早于该日的转入日期") % {
                "d": latest.end.isoformat()
            }
        return None
    if open_ms.organization.code == row.org_code and len(history) == 1:
        return None  # a correction of the only membership's start date
    if row.start is None or (open_ms.start is not None and row.start <= open_ms.start):
        return _("该党员当前在%(org)s（%(d)s 转入），转入新组织须填写晚于该日的转入日期") % {
            "org": open_ms.organization.name,
            "d": open_ms.start.isoformat() if open_ms.start else _("建档时"),
        }
    return None


def apply_members(ctx: ImportContext) -> dict[str, int]:
    rows: dict[str, MemberRow] = ctx.data["member_rows"]
    orgs = {
        o.code: o for o in Organization.objects.filter(code__in={r.org_code for r in rows.values()})
    }
    existing = {m.member_no: m for m in Member.objects.filter(member_no__in=list(rows))}
    created = updated = transferred = 0
    today = timezone.localdate()
    for no, row in rows.items():
        org = orgs[row.org_code]
        member = existing.get(no)
        fields = {"name": row.name, "category": row.category, "cadre_level": row.cadre_level}
        if row.mobile:
            fields["mobile"] = row.mobile
        if member is None:
            member = Member.objects.create(member_no=no, **fields)
            Membership.objects.create(member=member, organization=org, start=row.start, end=row.end)
            created += 1
        else:
            changed = [k for k, v in fields.items() if getattr(member, k) != v]
            if changed:
                for k in changed:
                    setattr(member, k, fields[k])
                member.save(update_fields=changed)
                updated += 1
            transferred += _apply_membership(member, org, row)
        if row.role:
            _apply_role(member, org, row, today)
    return {"created": created, "updated": updated, "transferred": transferred}


def _apply_membership(member: Member, org: Organization, row: MemberRow) -> int:
    history = list(member.memberships.select_related("organization"))
    same = next((m for m in history if m.organization_id == org.pk and m.start == row.start), None)
    if same is not None:
        if same.end != row.end:
            same.end = row.end
            same.save(update_fields=["end"])
        return 0
    open_ms = next((m for m in history if m.end is None), None)
    if open_ms is not None and open_ms.organization_id == org.pk and len(history) == 1:
        open_ms.start, open_ms.end = row.start, row.end
        open_ms.save(update_fields=["start", "end"])
        return 0
    if open_ms is not None:
        open_ms.end = row.start
        open_ms.save(update_fields=["end"])
        # Roles in the old organization end with the transfer.
        for role in member.roles.filter(end__isnull=True).select_related("organization"):
            if not org.path.startswith(role.organization.path):
                role.end = row.start
                role.save(update_fields=["end"])
    Membership.objects.create(member=member, organization=org, start=row.start, end=row.end)
    return 1


def _apply_role(member: Member, org: Organization, row: MemberRow, today: dt.date) -> None:
    role_org = org
    if row.role in COMMITTEE_KINDS and org.type == OrgType.GROUP:
        role_org = Organization.objects.get_parent(org)
    if Role.objects.filter(
        member=member, organization=role_org, kind=row.role, end__isnull=True
    ).exists():
        return
    # A new duty at the same organization replaces the old one from today on.
    replaced = list(
        Role.objects.filter(
            member=member, organization=role_org, end__isnull=True, kind__in=LEDGER_ROLES
        )
    )
    for old in replaced:
        if old.start is not None and old.start >= today:
            old.delete()
        else:
            old.end = today
            old.save(update_fields=["end"])
    start = row.start if not replaced else today
    Role.objects.create(
        member=member, organization=role_org, kind=row.role, start=start, end=row.end
    )


def register() -> None:
    register_sheet(
        SheetHandler(
            sheet=ORG_SHEET,
            required=("编码", "名称", "类型"),
            optional=("上级编码", "规则方案"),
            validate=validate_orgs,
            apply=apply_orgs,
            order=10,
        )
    )
    register_sheet(
        SheetHandler(
            sheet=MEMBER_SHEET,
            required=("编号", "姓名", "所在组织编码"),
            optional=("职务", "类别", "干部层级", "转入日期", "转出日期", "手机"),
            validate=validate_members,
            apply=apply_members,
            order=20,
        )
    )
