"""A plausible, reproducible demo organization, written with bulk inserts so it scales.

Shape: one 机关党委 → 党总支s (one per four branches) → 党支部s → 党小组s, members with
committee roles and group leaders, transfers between branches and out of the system,
a few exemptions, and demo log-ins for each kind of user.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .idcard import check_digit
from .models import (
    CadreLevel,
    Category,
    Exemption,
    ExemptionKind,
    Gender,
    Member,
    Membership,
    Organization,
    OrgType,
    Reviewer,
    Role,
    RoleKind,
    User,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文海波红梅玉兰晓东晓燕春梅海燕俊杰子轩浩然思远雨欣佳怡欣怡梓涵一鸣宇航"
DEPARTMENTS = [
    "办公室",
    "政策法规处",
    "计划财务处",
    "人事处",
    "建筑市场监管处",
    "城市建设处",
    "村镇建设处",
    "住房保障处",
    "房地产市场监管处",
    "科技与设计处",
    "工程质量安全监管处",
    "城市管理局",
    "机关服务中心",
    "信息中心",
    "档案馆",
    "执业资格注册中心",
    "建设科技推广中心",
    "造价管理总站",
    "住房公积金中心",
    "离退休干部处",
    "审批服务处",
    "标准定额处",
    "勘察设计处",
    "风景名胜处",
]
DEMO_PASSWORD = "demo12345"
DEMO_USERNAMES = ["admin", "reviewer", "shuji1", "shuji2", "dangyuan"]

# Hooks that apps above this one (attendance) register to add their demo records.
EXTENSIONS: list[Callable[[DemoResult, random.Random], None]] = []


@dataclass
class DemoResult:
    root: Organization
    branches: list[Organization]
    members: int
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (who, username, password)
    first_day: dt.date = dt.date(2000, 1, 1)
    today: dt.date = dt.date(2000, 1, 1)


def _name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(len(GIVEN))]
    if rng.random() < 0.6:
        given += GIVEN[rng.randrange(len(GIVEN))]
    return SURNAMES[rng.randrange(len(SURNAMES))] + given


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def _id_number(rng: random.Random, birth: dt.date, female: bool) -> str:
    body = f"350102{birth:%Y%m%d}{rng.randrange(100):02d}{rng.randrange(0, 10, 2) + (0 if female else 1)}"
    return body + check_digit(body)


@transaction.atomic
def seed_demo(
    *,
    branches: int = 12,
    members_per_branch: int = 25,
    years: int = 1,
    seed: int = 2026,
    groups_per_branch: int = 2,
    with_logins: bool = True,
    today: dt.date | None = None,
) -> DemoResult:
    rng = random.Random(seed)
    today = today or timezone.localdate()
    first_day = dt.date(today.year - years + 1, 1, 1)
    step = Organization.steplen

    def path(parent: str, index: int) -> str:
        return parent + Organization._int2str(index).rjust(step, "0")

    orgs: list[Organization] = []
    root = Organization(
        code="JG",
        name="省住房和城乡建设厅机关党委",
        type=OrgType.ORGAN_COMMITTEE,
        path=path("", 1),
        depth=1,
        numchild=0,
    )
    orgs.append(root)
    n_general = max(1, round(branches / 4))
    generals = []
    for g in range(n_general):
        general = Organization(
            code=f"JG-{g + 1:02d}",
            name=f"第{_cn_number(g + 1)}党总支",
            type=OrgType.GENERAL_BRANCH,
            path=path(root.path, g + 1),
            depth=2,
            numchild=0,
        )
        generals.append(general)
        orgs.append(general)
    root.numchild = len(generals)
    branch_orgs: list[Organization] = []
    groups_of: dict[str, list[Organization]] = {}
    for b in range(branches):
        general = generals[b % n_general]
        general.numchild += 1
        dept = DEPARTMENTS[b % len(DEPARTMENTS)]
        suffix = "" if b < len(DEPARTMENTS) else f"（{b // len(DEPARTMENTS) + 1}）"
        branch = Organization(
            code=f"{general.code}-{general.numchild:02d}",
            name=f"{dept}{suffix}党支部",
            type=OrgType.BRANCH,
            path=path(general.path, general.numchild),
            depth=3,
            numchild=groups_per_branch,
        )
        branch_orgs.append(branch)
        orgs.append(branch)
        groups_of[branch.code] = []
        for k in range(groups_per_branch):
            group = Organization(
                code=f"{branch.code}-{k + 1}",
                name=f"{dept}{suffix}第{_cn_number(k + 1)}党小组",
                type=OrgType.GROUP,
                path=path(branch.path, k + 1),
                depth=4,
                numchild=0,
            )
            groups_of[branch.code].append(group)
            orgs.append(group)
    Organization.objects.bulk_create(orgs, batch_size=2000)
    by_code = {o.code: o for o in Organization.objects.filter(path__startswith=root.path)}

    members: list[Member] = []
    placements: list[tuple[int, Organization, Organization]] = []  # (index, branch, holder)
    for branch in branch_orgs:
        groups = groups_of[branch.code]
        for i in range(members_per_branch):
            female = rng.random() < 0.45
            birth = dt.date(1962 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
            joined = dt.date(
                max(birth.year + 18, 1985) + rng.randrange(10),
                1 + rng.randrange(12),
                1 + rng.randrange(28),
            )
            members.append(
                Member(
                    member_no=f"M{len(members) + 1:06d}",
                    name=_name(rng),
                    gender=Gender.FEMALE if female else Gender.MALE,
                    ethnicity="汉族"
                    if rng.random() < 0.92
                    else rng.choice(["回族", "畲族", "满族", "壮族"]),
                    birth_date=birth,
                    joined_party_on=joined,
                    category=Category.PROBATIONARY if rng.random() < 0.04 else Category.FULL,
                    cadre_level=rng.choices(
                        [CadreLevel.ORDINARY, CadreLevel.DIVISION, CadreLevel.OTHER_CADRE],
                        weights=[70, 8, 22],
                    )[0],
                    mobile=_mobile(rng),
                    id_number=_id_number(rng, birth, female),
                )
            )
            holder = groups[i % len(groups)] if groups else branch
            placements.append((len(members) - 1, branch, by_code[holder.code]))
    Member.objects.bulk_create(members, batch_size=5000)
    members = list(
        Member.objects.filter(member_no__in=[m.member_no for m in members]).order_by("member_no")
    )

    memberships: list[Membership] = []
    roles: list[Role] = []
    exemptions: list[Exemption] = []
    span = max(1, (today - first_day).days)
    per_branch_index: dict[str, int] = {}
    led_groups: set[int] = set()
    for idx, branch, holder in placements:
        member = members[idx]
        position = per_branch_index.get(branch.code, 0)
        per_branch_index[branch.code] = position + 1
        branch_db = by_code[branch.code]
        # A few members joined during the period; the rest were on the roll before it.
        start = (
            first_day + dt.timedelta(days=rng.randrange(span))
            if rng.random() < 0.05 and position >= 8
            else None
        )
        roll = rng.random()
        if position >= 8 and roll < 0.03 and len(branch_orgs) > 1:
            # Transferred to another branch during the period.
            moved_on = first_day + dt.timedelta(days=rng.randrange(span))
            if start is not None and moved_on <= start:
                moved_on = start + dt.timedelta(days=1)
            other = branch_orgs[
                (branch_orgs.index(branch) + 1 + rng.randrange(len(branch_orgs) - 1))
                % len(branch_orgs)
            ]
            target = (
                by_code[groups_of[other.code][0].code]
                if groups_of[other.code]
                else by_code[other.code]
            )
            memberships.append(
                Membership(member=member, organization=holder, start=start, end=moved_on)
            )
            memberships.append(Membership(member=member, organization=target, start=moved_on))
        elif position >= 8 and roll < 0.04:
            left_on = first_day + dt.timedelta(days=rng.randrange(span))
            if start is not None and left_on <= start:
                left_on = start + dt.timedelta(days=1)
            memberships.append(
                Membership(member=member, organization=holder, start=start, end=left_on)
            )
        else:
            memberships.append(Membership(member=member, organization=holder, start=start))
        committee = [
            RoleKind.SECRETARY,
            RoleKind.DEPUTY_SECRETARY,
            RoleKind.ORGANIZATION_MEMBER,
            RoleKind.PROPAGANDA_MEMBER,
            RoleKind.DISCIPLINE_MEMBER,
        ]
        if position < len(committee) and (position != 1 or members_per_branch >= 15):
            roles.append(Role(member=member, organization=branch_db, kind=committee[position]))
        if (
            holder.type == OrgType.GROUP
            and holder.pk not in led_groups
            and position >= len(committee)
        ):
            led_groups.add(holder.pk)
            roles.append(Role(member=member, organization=holder, kind=RoleKind.GROUP_LEADER))
        if position >= 6 and rng.random() < 0.015:
            ex_start = first_day + dt.timedelta(days=rng.randrange(span))
            exemptions.append(
                Exemption(
                    member=member,
                    kind=rng.choice(list(ExemptionKind)),
                    start=ex_start,
                    end=ex_start + dt.timedelta(days=60 + rng.randrange(120)),
                    note="演示数据",
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=5000)
    Role.objects.bulk_create(roles, batch_size=5000)
    Exemption.objects.bulk_create(exemptions, batch_size=5000)

    result = DemoResult(
        root=by_code[root.code],
        branches=[by_code[b.code] for b in branch_orgs],
        members=len(members),
        first_day=first_day,
        today=today,
    )
    if with_logins:
        result.logins = _demo_logins(result, members, roles)
    for extension in EXTENSIONS:
        extension(result, rng)
    return result


def _demo_logins(
    result: DemoResult, members: list[Member], roles: list[Role]
) -> list[tuple[str, str, str]]:
    logins = []

    def user(username: str, first_name: str, **extra) -> User:
        u = User(username=username, first_name=first_name, **extra)
        u.set_password(DEMO_PASSWORD)
        u.save()
        return u

    user("admin", "系统管理员", is_superuser=True, is_staff=True)
    logins.append(("系统管理员", "admin", DEMO_PASSWORD))
    reviewer = user("reviewer", "机关党委审阅人")
    Reviewer.objects.create(user=reviewer, organization=result.root)
    logins.append(("审阅人（机关党委）", "reviewer", DEMO_PASSWORD))
    secretaries = [r for r in roles if r.kind == RoleKind.SECRETARY]
    for n, role in enumerate(secretaries[:2], start=1):
        member = role.member
        member.user = user(f"shuji{n}", member.name)
        member.save(update_fields=["user"])
        logins.append((f"书记（{role.organization.name}）", member.user.username, DEMO_PASSWORD))
    if secretaries:
        branch = secretaries[0].organization
        ordinary = (
            Member.objects.filter(
                memberships__organization__path__startswith=branch.path,
                memberships__end__isnull=True,
                roles__isnull=True,
                user__isnull=True,
            )
            .order_by("member_no")
            .first()
        )
        if ordinary is not None:
            ordinary.user = user("dangyuan", ordinary.name)
            ordinary.save(update_fields=["user"])
            logins.append((f"党员（{branch.name}）", "dangyuan", DEMO_PASSWORD))
    return logins


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)
