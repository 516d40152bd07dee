"""The 组织 and 党员 sheets of the ledger: the roster."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .ledger import (
    Column,
    ImportContext,
    Sheet,
    SheetHandler,
    choice_column,
    code_column,
    date_column,
    fold,
    optional_headers,
    parse_rows,
    register_sheet,
    required_headers,
    text_column,
)
from .models import (
    CENTRAL_GROUP_KINDS,
    COMMITTEE_KINDS,
    CadreLevel,
    Category,
    Member,
    Membership,
    Organization,
    OrgType,
    Reviewer,
    Role,
    RoleKind,
    User,
    mobile_validator,
    profile_name_error,
    type_error_for_parent,
)
from .selectors import Scope, scope_for

ORG_SHEET = "组织"
MEMBER_SHEET = "党员"
# The duties the ledger's 职务 column may name, in the order RoleKind lists them.
LEDGER_ROLES = tuple(k for k in RoleKind if k in COMMITTEE_KINDS or k == RoleKind.GROUP_LEADER)


def _profile(text: str, raw: object) -> tuple[str | None, str | None]:
    error = profile_name_error(text)
    return (None, error) if error else (text, None)


def _mobile(text: str, raw: object) -> tuple[str | None, str | None]:
    from django.core.exceptions import ValidationError

    value = re.sub(r"[\s-]", "", fold(text))
    try:
        mobile_validator(value)
    except ValidationError as exc:
        return None, _("手机「%(v)s」无效：%(why)s") % {"v": text, "why": exc.messages[0]}
    return value, None


def _code_list(header: str) -> Column:
    """Codes separated by 、 (also , ， ; ；), each read as a code."""
    single = code_column(header, Organization._meta.get_field("code"))

    def parse(text: str, raw: object) -> tuple[list[str] | None, str | None]:
        codes: list[str] = []
        for part in re.split(r"[、,，;；\s]+", text):
            if not part:
                continue
            code, err = single.parse(part, part)
            if err:
                return None, err
            codes.append(code)
        return codes, None

    return Column(header, parse, default=[])


_org = Organization._meta.get_field
_member = Member._meta.get_field

ORG_COLUMNS = (
    code_column("编码", _org("code"), required=True, example="JG-01-03"),
    text_column("名称", _org("name"), required=True, example="综合处党支部"),
    choice_column("类型", OrgType.values, required=True, example=OrgType.BRANCH),
    code_column("上级编码", _org("code"), example="JG-01"),
    Column("规则方案", _profile, default=""),
    date_column("成立日期", example=dt.date(2025, 1, 1)),
    date_column("撤销日期"),
)

MEMBER_COLUMNS = (
    code_column("编号", _member("member_no"), required=True, example="D001"),
    text_column("姓名", _member("name"), required=True, name=True, example="张三"),
    code_column("所在组织编码", _org("code"), required=True, example="JG-01-03"),
    choice_column("职务", LEDGER_ROLES, example=RoleKind.SECRETARY),
    choice_column("类别", Category.values, default=Category.FULL, example=Category.FULL),
    choice_column("干部层级", CadreLevel.values),
    date_column("转入日期", example=dt.date(2025, 1, 1)),
    date_column("转出日期"),
    Column("手机", _mobile, default="", example="13800138000"),
    _code_list("中心组"),
)
CENTRAL_GROUP_TYPES = (OrgType.PARTY_COMMITTEE, OrgType.LEADING_GROUP, OrgType.ORGAN_COMMITTEE)


@dataclass
class OrgRow:
    row: int
    code: str
    name: str
    type: str
    parent_code: str
    profile_name: str
    active_from: dt.date | None = None
    active_until: dt.date | None = None


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
    central_groups: list[str] = field(default_factory=list)


def _org_types(ctx: ImportContext) -> dict[str, tuple[str, str | None]]:
    """code -> (type, parent code) for the organizations after this import: file over DB."""
    return ctx.data["org_types"]


def validate_orgs(ctx: ImportContext, sheet: Sheet) -> None:
    rows: dict[str, OrgRow] = {}
    for p in parse_rows(ctx, sheet, ORG_COLUMNS, unique="编码"):
        code = p["编码"]
        if not code:
            continue
        start, end = p["成立日期"], p["撤销日期"]
        if start and end and end <= start:
            ctx.error(
                sheet.name,
                p.row.number,
                "撤销日期",
                _("撤销日期「%(e)s」应晚于成立日期「%(s)s」")
                % {"e": end.isoformat(), "s": start.isoformat()},
            )
        if p.duplicate:
            continue
        # A row wrong only in another column keeps its type: members and sessions of that
        # organization are then checked as usual, and the one error is reported once.
        rows[code] = OrgRow(
            p.row.number,
            code,
            p["名称"] or "",
            p["类型"] or "",
            p["上级编码"] or "",
            p["规则方案"] or "",
            start,
            end,
        )

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
                ctx.error(
                    sheet.name,
                    row.row,
                    "上级编码",
                    _("上级编码「%(c)s」不能是本组织自己") % {"c": code},
                )
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
        cycle = _cycle(code, org_types)
        if cycle and cycle[0] != code:
            continue  # it leads into a loop that the loop's own rows report
        if cycle:
            ctx.error(
                sheet.name,
                row.row,
                "上级编码",
                _("上级关系形成循环：%(path)s") % {"path": " → ".join(cycle)},
            )
            continue
        if scope.is_admin:
            continue
        if not _org_in_write_scope(code, org_types, existing, scope):
            ctx.error(
                sheet.name, row.row, "编码", _("组织「%(c)s」不在您管理的范围内") % {"c": code}
            )
        elif (
            code in existing
            and row.parent_code
            and row.parent_code != parent_of_existing.get(code)
            and not _org_in_write_scope(row.parent_code, org_types, existing, scope)
        ):
            # A move is checked as the move form checks it: the new parent must be writable.
            ctx.error(
                sheet.name,
                row.row,
                "上级编码",
                _("上级组织「%(c)s」不在您管理的范围内，不能把「%(o)s」移到其下")
                % {"c": row.parent_code, "o": code},
            )
    ctx.data["org_rows"] = rows
    ctx.data["org_types"] = org_types


def _parent_codes(orgs: list[Organization]) -> dict[str, str | None]:
    parent_paths = {o.path[: -Organization.steplen] for o in orgs if o.depth > 1}
    by_path = dict(Organization.objects.filter(path__in=parent_paths).values_list("path", "code"))
    return {o.code: by_path.get(o.path[: -Organization.steplen]) for o in orgs}


def _cycle(code: str, org_types: dict[str, tuple[str, str | None]]) -> list[str]:
    """The codes of the loop the parent chain of `code` runs into (empty: no loop)."""
    chain = [code]
    parent = org_types.get(code, ("", None))[1]
    while parent:
        if parent in chain:
            return [*chain[chain.index(parent) :], parent]
        chain.append(parent)
        parent = org_types.get(parent, ("", None))[1]
    return []


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
                active_from=row.active_from,
                active_until=row.active_until,
            )
            created += 1
            continue
        changed = [
            f
            for f in ("name", "type", "profile_name", "active_from", "active_until")
            if getattr(org, f) != getattr(row, f)
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
            ctx.error(
                ORG_SHEET,
                row.row,
                "上级编码",
                _(
                    "「%(c)s」已在系统中有上级组织，上级编码不能留空（不能通过导入把已有组织改为根组织）"
                )
                % {"c": row.code},
            )
    return {"created": created, "updated": updated, "moved": moved}


def validate_members(ctx: ImportContext, sheet: Sheet) -> None:
    org_types = ctx.data.get("org_types", {})
    rows: dict[str, MemberRow] = {}
    org_codes_needed = set()
    first_row: dict[str, int] = {}
    for p in parse_rows(ctx, sheet, MEMBER_COLUMNS, unique="编号"):
        no = p["编号"]
        bad = not p.ok
        start, end = p["转入日期"], p["转出日期"]
        if start and end and end <= start:
            ctx.error(
                sheet.name,
                p.row.number,
                "转出日期",
                _("转出日期「%(e)s」应晚于转入日期「%(s)s」")
                % {"e": end.isoformat(), "s": start.isoformat()},
            )
            bad = True
        if p.duplicate:
            continue
        if no:
            first_row[no] = p.row.number
        if bad:
            continue
        rows[no] = MemberRow(
            p.row.number,
            no,
            p["姓名"],
            p["所在组织编码"],
            p["职务"] or "",
            p["类别"],
            p["干部层级"] or "",
            start,
            end,
            p["手机"] or "",
            p["中心组"] or [],
        )
        org_codes_needed.add(p["所在组织编码"])
        org_codes_needed.update(p["中心组"] or [])

    # Numbers of rows that are wrong too: other sheets do not report them as unknown.
    ctx.data["member_nos_named"] = set(first_row) | {fold(r.text("编号")) for r in sheet.rows}
    db_orgs = {o.code: o for o in Organization.objects.filter(code__in=org_codes_needed)}
    scope = scope_for(ctx.user)
    org_paths_ok: dict[str, bool] = {}

    def writable(code: str) -> bool:
        if code not in org_paths_ok:
            # A new organization was already checked by the 组织 sheet's scope check.
            org = db_orgs.get(code)
            org_paths_ok[code] = org is None or scope.can_write_path(org.path)
        return org_paths_ok[code]

    def type_of(code: str) -> str | None:
        if code in org_types:
            return org_types[code][0]
        return db_orgs[code].type if code in db_orgs else None

    for no, row in list(rows.items()):
        org_type = type_of(row.org_code)
        if org_type is None:
            ctx.error(
                sheet.name,
                row.row,
                "所在组织编码",
                _("组织「%(c)s」既不在组织表中也不在系统中") % {"c": row.org_code},
            )
            del rows[no]
            continue
        if org_type == "":
            # The organization's own row in 组织 is wrong and reported there.
            del rows[no]
            continue
        if org_type not in (OrgType.BRANCH, OrgType.GROUP):
            ctx.error(
                sheet.name,
                row.row,
                "所在组织编码",
                _("党员只能编入党支部或党小组，「%(c)s」是%(t)s")
                % {"c": row.org_code, "t": org_type},
            )
            del rows[no]
            continue
        if row.role == RoleKind.GROUP_LEADER and org_type != OrgType.GROUP:
            ctx.error(
                sheet.name,
                row.row,
                "职务",
                _("职务「小组长」须编入党小组，「%(c)s」是%(t)s")
                % {"c": row.org_code, "t": org_type},
            )
        if not scope.is_admin and not writable(row.org_code):
            ctx.error(
                sheet.name,
                row.row,
                "所在组织编码",
                _("组织「%(c)s」不在您管理的范围内") % {"c": row.org_code},
            )
        for code in row.central_groups:
            group_type = type_of(code)
            if group_type is None:
                ctx.error(
                    sheet.name,
                    row.row,
                    "中心组",
                    _("组织「%(c)s」既不在组织表中也不在系统中") % {"c": code},
                )
            elif group_type and group_type not in CENTRAL_GROUP_TYPES:
                ctx.error(
                    sheet.name,
                    row.row,
                    "中心组",
                    _("「%(c)s」是%(t)s，中心组只设在%(ok)s")
                    % {"c": code, "t": group_type, "ok": "、".join(CENTRAL_GROUP_TYPES)},
                )
            elif not scope.is_admin and not writable(code):
                ctx.error(
                    sheet.name,
                    row.row,
                    "中心组",
                    _("组织「%(c)s」不在您管理的范围内，不能设置其中心组成员") % {"c": code},
                )

    existing = {m.member_no: m for m in Member.objects.filter(member_no__in=list(rows))}
    memberships: dict[int, list[Membership]] = {}
    for ms in Membership.objects.filter(member__in=existing.values()).select_related(
        "organization"
    ):
        memberships.setdefault(ms.member_id, []).append(ms)
    unplaced: dict[int, str] = {}  # linked user id -> member number, for members on no roll
    transfers: dict[int, str] = {}  # member pk -> member number, for members who move
    for no, row in rows.items():
        member = existing.get(no)
        if member is None:
            continue
        history = memberships.get(member.pk, [])
        open_ms = next((m for m in history if m.end is None), None)
        if (
            not scope.is_admin
            and open_ms is not None
            and open_ms.organization.code != row.org_code
            and not scope.can_write_path(open_ms.organization.path)
        ):
            # Which organization the member is in is not the importer's to know.
            ctx.error(
                sheet.name,
                row.row,
                "编号",
                _("党员「%(no)s」当前不在您管理的组织中，须由其所在组织转出后再导入") % {"no": no},
            )
            continue
        plan = _membership_plan(row, history)
        if isinstance(plan, str):
            ctx.error(sheet.name, row.row, "转入日期", plan)
            continue
        if not scope.is_admin and open_ms is None and member.user_id is not None:
            unplaced[member.user_id] = no
        if not scope.is_admin and open_ms is not None and open_ms.organization.code != row.org_code:
            transfers[member.pk] = no
    for no in _roles_a_transfer_ends(transfers, rows, db_orgs, scope):
        ctx.error(
            sheet.name,
            rows[no].row,
            "所在组织编码",
            _(
                "党员「%(no)s」在您管理范围以外的组织担任职务，转接会终止这些职务；"
                "请联系该组织或系统管理员办理"
            )
            % {"no": no},
        )
    for no in _beyond_powers(unplaced, scope):
        ctx.error(
            sheet.name,
            rows[no].row,
            "编号",
            _(
                "党员「%(no)s」关联的账号拥有您管理范围以外的权限（管理员或其他组织的职务），"
                "不能通过导入编入您的组织；请联系系统管理员办理"
            )
            % {"no": no},
        )
    ctx.data["member_rows"] = rows


def _roles_a_transfer_ends(
    transfers: dict[int, str],
    rows: dict[str, MemberRow],
    db_orgs: dict[str, Organization],
    scope: Scope,
) -> list[str]:
    """Member numbers whose transfer would end a role the importer has no power over.

    A transfer ends the member's roles outside the new organization's chain (apply_members);
    a role at an ancestor of the new organization stays. For an organization new in the
    workbook the chain is not known yet, so every role outside the scope counts."""
    if not transfers:
        return []
    beyond: set[str] = set()
    for member_id, path in (
        Role.objects.current()
        .filter(member_id__in=transfers)
        .values_list("member_id", "organization__path")
    ):
        no = transfers[member_id]
        target = db_orgs.get(rows[no].org_code)
        kept = target is not None and target.path.startswith(path)
        if not kept and not scope.can_write_path(path):
            beyond.add(no)
    return sorted(beyond)


def _beyond_powers(users: dict[int, str], scope: Scope) -> list[str]:
    """Member numbers whose linked user holds powers the importer does not: staff, superuser,
    a role or a reviewer seat outside the importer's write scope. Putting such a member on
    the importer's roll would let the importer issue that user a log-in."""
    if not users:
        return []
    beyond = set(
        User.objects.filter(pk__in=users)
        .filter(Q(is_staff=True) | Q(is_superuser=True))
        .values_list("pk", flat=True)
    )
    for user_id, path in (
        Role.objects.current()
        .filter(member__user_id__in=users)
        .values_list("member__user_id", "organization__path")
    ):
        if not scope.can_write_path(path):
            beyond.add(user_id)
    for user_id, path in Reviewer.objects.filter(user_id__in=users).values_list(
        "user_id", "organization__path"
    ):
        if not scope.can_write_path(path):
            beyond.add(user_id)
    return sorted(users[u] for u in beyond)


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
    central = {
        o.code: o
        for o in Organization.objects.filter(
            code__in={c for r in rows.values() for c in r.central_groups}
        )
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
        for code in row.central_groups:
            _apply_central_group(member, central[code])
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


def _apply_central_group(member: Member, organization: Organization) -> None:
    """A 中心组 column names the member's 中心组 there; a 组长 or 学习秘书 stays what they are."""
    if Role.objects.filter(
        member=member, organization=organization, kind__in=CENTRAL_GROUP_KINDS, end__isnull=True
    ).exists():
        return
    Role.objects.create(
        member=member, organization=organization, kind=RoleKind.CENTRAL_GROUP_MEMBER
    )


def register() -> None:
    register_sheet(
        SheetHandler(
            sheet=ORG_SHEET,
            required=required_headers(ORG_COLUMNS),
            optional=optional_headers(ORG_COLUMNS),
            validate=validate_orgs,
            apply=apply_orgs,
            order=10,
            columns=ORG_COLUMNS,
        )
    )
    register_sheet(
        SheetHandler(
            sheet=MEMBER_SHEET,
            required=required_headers(MEMBER_COLUMNS),
            optional=optional_headers(MEMBER_COLUMNS),
            validate=validate_members,
            apply=apply_members,
            order=20,
            columns=MEMBER_COLUMNS,
        )
    )
