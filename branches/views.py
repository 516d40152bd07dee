from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.http import AuthenticatedHttpRequest

from . import services
from .filters import member_list_filter
from .forms import (
    ExemptionForm,
    LedgerUploadForm,
    MemberCreateForm,
    MemberForm,
    OrganizationForm,
    OrganizationMoveForm,
    RoleEndForm,
    RoleForm,
    RosterDateForm,
    TransferForm,
    member_form_initial,
)
from .ledger import LedgerRejected, import_ledger, max_rows_per_sheet
from .ledger_pending import pending_claim, pending_forget, pending_path, pending_store
from .ledger_template import ledger_template as ledger_template_workbook
from .models import MEMBER_HOLDING_TYPES, Member, Organization, Role
from .privacy import log_access
from .selectors import (
    member_counts,
    members_editable_by,
    members_visible_to,
    organizations_editable_by,
    organizations_movable_by,
    organizations_visible_to,
    roll_on,
    scope_for,
)


def _org(request: AuthenticatedHttpRequest, code: str, *, write: bool = False) -> Organization:
    qs = (
        organizations_editable_by(request.user) if write else organizations_visible_to(request.user)
    )
    return get_object_or_404(qs, code=code)


def _member(request: AuthenticatedHttpRequest, member_no: str, *, write: bool = False) -> Member:
    qs = members_editable_by(request.user) if write else members_visible_to(request.user)
    return get_object_or_404(qs, member_no=member_no)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


@login_required
def org_tree(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_staff_like:
        raise Http404
    orgs = list(organizations_visible_to(request.user))
    counts = member_counts(organizations=orgs, day=timezone.localdate())
    base_depth = min((o.depth for o in orgs), default=1)
    for org in orgs:
        org.member_count = counts[org.pk]
        org.indent = org.depth - base_depth
    return render(request, "branches/org_tree.html", {"orgs": orgs})


@login_required
def org_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    org = _org(request, code)
    date_form = RosterDateForm(request.GET or None)
    day = date_form.day()
    roll = list(roll_on(organization=org, day=day))
    roles = (
        Role.objects.on(day)
        .filter(organization__path__startswith=org.path)
        .select_related("member", "organization")
        .order_by("organization__path", "kind")
    )
    roles_by_member: dict[int, list[Role]] = {}
    for role in roles:
        roles_by_member.setdefault(role.member_id, []).append(role)
    for ms in roll:
        ms.roles_on_day = roles_by_member.get(ms.member_id, [])
    children = list(Organization.objects.get_children(org))
    counts = member_counts(organizations=[org, *children], day=day)
    for child in children:
        child.member_count = counts[child.pk]
    scope = scope_for(request.user)
    return render(
        request,
        "branches/org_detail.html",
        {
            "org": org,
            "ancestors": Organization.objects.get_ancestors(org),
            "children": children,
            "roll": roll,
            "committee": [r for r in roles if r.organization_id == org.pk],
            "day": day,
            "date_form": date_form,
            "date_problem": date_form.problem(),
            "member_count": counts[org.pk],
            "can_write": scope.can_write_path(org.path),
            "can_review": scope.can_review_path(org.path),
            "can_move": org.depth > 1 and scope.can_write_path(org.path[: -Organization.steplen]),
        },
    )


def _org_form_fields(data: dict) -> dict:
    return {k: data[k] for k in ("name", "type", "profile_name", "active_from", "active_until")}


@login_required
def org_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    parent_code = request.GET.get("parent") or request.POST.get("parent") or ""
    parent = _org(request, parent_code, write=True) if parent_code else None
    if parent is None and not scope.is_admin:
        raise Http404
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(
                parent=parent,
                code=form.cleaned_data["code"],
                by=request.user,
                **_org_form_fields(form.cleaned_data),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已添加组织 %(name)s") % {"name": org.name})
            return redirect(org)
    return render(
        request, "branches/org_form.html", {"form": form, "parent": parent, "title": _("添加组织")}
    )


@login_required
def org_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    org = _org(request, code, write=True)
    initial = {
        "code": org.code,
        **{
            k: getattr(org, k)
            for k in ("name", "type", "profile_name", "active_from", "active_until")
        },
    }
    form = OrganizationForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                organization=org, by=request.user, **_org_form_fields(form.cleaned_data)
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect(org)
    return render(
        request, "branches/org_form.html", {"form": form, "org": org, "title": _("编辑组织")}
    )


@login_required
def org_move(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    org = get_object_or_404(organizations_movable_by(request.user), code=code)
    parents = organizations_editable_by(request.user).exclude(path__startswith=org.path)
    form = OrganizationMoveForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_move(
                organization=org, new_parent=form.cleaned_data["parent"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已移动到 %(p)s") % {"p": form.cleaned_data["parent"].name})
            return redirect(org)
    return render(request, "branches/org_move.html", {"form": form, "org": org})


@login_required
def member_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_staff_like:
        raise Http404
    member_filter = member_list_filter(request.user, request.GET)
    page = Paginator(member_filter.qs.order_by("member_no"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "branches/member_list.html",
        {"filter": member_filter, "page": page, "query": query.urlencode()},
    )


@login_required
def member_detail(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no)
    can_write = members_editable_by(request.user).filter(pk=member.pk).exists()
    scope = scope_for(request.user)
    is_self = scope.member_id == member.pk
    if (can_write or scope.is_admin) and not is_self and (member.mobile or member.id_number):
        # Full mobile and ID numbers are shown: record who read them.
        log_access(user=request.user, member=member, what="党员信息页（完整手机号、身份证号）")
    return render(
        request,
        "branches/member_detail.html",
        {
            "member": member,
            "memberships": member.memberships.select_related("organization").order_by(
                F("start").asc(nulls_first=True)
            ),
            "roles": member.roles.select_related("organization").order_by(
                F("start").desc(nulls_last=True)
            ),
            "exemptions": member.exemptions.order_by("-start"),
            "current": member.current_membership(),
            "can_write": can_write,
            # Full numbers only for the member and for those who manage the record.
            "show_personal": can_write or is_self or scope.is_admin,
            "role_end_form": RoleEndForm(),
        },
    )


@login_required
def member_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    orgs = organizations_editable_by(request.user).filter(type__in=MEMBER_HOLDING_TYPES)
    if not orgs.exists():
        raise Http404
    initial = {"organization": request.GET.get("org")}
    form = MemberCreateForm(request.POST or None, organizations=orgs, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        org, start = data.pop("organization"), data.pop("start")
        try:
            member = services.member_create(organization=org, start=start, by=request.user, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已添加党员 %(name)s") % {"name": member.name})
            return redirect(member)
    return render(request, "branches/member_form.html", {"form": form, "title": _("添加党员")})


@login_required
def member_edit(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no, write=True)
    if request.method == "GET" and (member.mobile or member.id_number):
        # The form holds the full numbers, as the member page does.
        log_access(user=request.user, member=member, what="编辑党员信息（完整手机号、身份证号）")
    form = MemberForm(request.POST or None, initial=member_form_initial(member), editing=True)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "member_no"}
        try:
            services.member_update(member=member, by=request.user, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect(member)
    return render(
        request,
        "branches/member_form.html",
        {"form": form, "member": member, "title": _("编辑党员信息")},
    )


@login_required
def member_transfer(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no, write=True)
    scope = scope_for(request.user)
    # A secretary may transfer to any branch (the receiving side is not theirs to refuse here);
    # the list offers every organization that can hold members.
    targets = Organization.objects.filter(type__in=MEMBER_HOLDING_TYPES).order_by("path")
    form = TransferForm(request.POST or None, targets=targets)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_transfer(
                member=member,
                to=form.cleaned_data["to"],
                on=form.cleaned_data["on"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已办理组织关系转接"))
            # After a transfer out of scope the member page may no longer be visible.
            if members_visible_to(request.user).filter(pk=member.pk).exists():
                return redirect(member)
            return redirect("home")
    return render(
        request, "branches/member_transfer.html", {"form": form, "member": member, "scope": scope}
    )


@login_required
def role_add(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no, write=True)
    current = member.current_membership()
    if current is None:
        raise Http404
    # Roles in the member's own organization or an editable organization above it.
    orgs = organizations_editable_by(request.user).filter(
        pk__in=[
            current.organization.pk,
            *Organization.objects.get_ancestors(current.organization).values_list("pk", flat=True),
        ]
    )
    form = RoleForm(request.POST or None, organizations=orgs)
    if request.method == "POST" and form.is_valid():
        try:
            services.role_assign(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已任命"))
            return redirect(member)
    return render(
        request,
        "branches/simple_form.html",
        {"form": form, "member": member, "title": _("任命职务")},
    )


@login_required
@require_POST
def role_end(request: AuthenticatedHttpRequest, member_no: str, role_id: int) -> HttpResponse:
    member = _member(request, member_no, write=True)
    role = get_object_or_404(
        member.roles.filter(organization__in=organizations_editable_by(request.user)), pk=role_id
    )
    form = RoleEndForm(request.POST)
    if form.is_valid():
        try:
            services.role_end(role=role, on=form.cleaned_data["end"], by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已免去 %(kind)s 职务") % {"kind": role.kind})
    else:
        messages.error(request, _("免职日期无效"))
    return redirect(member)


@login_required
def exemption_add(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no, write=True)
    form = ExemptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exemption_add(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已登记"))
            return redirect(member)
    return render(
        request,
        "branches/simple_form.html",
        {"form": form, "member": member, "title": _("登记免于参加")},
    )


@login_required
@require_POST
def member_issue_login(request: AuthenticatedHttpRequest, member_no: str) -> HttpResponse:
    member = _member(request, member_no, write=True)
    try:
        user, password = services.member_issue_login(member=member, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(member)
    return render(
        request,
        "branches/login_issued.html",
        {"member": member, "username": user.username, "password": password},
    )


@login_required
def ledger_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload, preview (a rolled-back import: what would be created, updated, skipped), then
    confirm with the token of the stored upload; a second confirm finds nothing to import."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths):
        raise Http404
    token = request.POST.get("token", "")
    action = request.POST.get("action", "")
    if token and action == "cancel":
        pending_forget(session=request.session, token=token)
        messages.info(request, _("已取消本次导入，未导入任何数据"))
        return redirect("branches:ledger_import")
    confirming = bool(token) and action == "confirm"
    form = LedgerUploadForm(
        None if confirming else (request.POST or None),
        None if confirming else (request.FILES or None),
    )
    context: dict = {
        "form": form,
        "max_mb": settings.LEDGER_MAX_UPLOAD_BYTES // (1024 * 1024),
        "max_rows": max_rows_per_sheet(),
    }
    if confirming:
        path = pending_claim(session=request.session, token=token)
        if path is None:
            messages.warning(
                request, _("该工作簿已经导入或已取消，没有再次导入；如需导入请重新上传")
            )
            return redirect("branches:ledger_import")
        try:
            context["result"] = import_ledger(path, user=request.user)
        except LedgerRejected as exc:
            # Something changed since the preview (another import, a roll taken meanwhile).
            context["errors"], context["error_count"] = exc.lines(), len(exc.errors)
        finally:
            path.unlink(missing_ok=True)
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = pending_store(session=request.session, upload=upload)
        path = pending_path(session=request.session, token=token)
        try:
            context["preview"] = import_ledger(path, user=request.user, dry_run=True)
            context["token"] = token
            context["file_name"] = upload.name
        except LedgerRejected as exc:
            pending_forget(session=request.session, token=token)
            # Past 200 errors the list is grouped (LEDGER.md), so the page stays small.
            context["errors"], context["error_count"] = exc.lines(), len(exc.errors)
    return render(request, "branches/ledger_import.html", context)


@login_required
def ledger_template(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The 台账 template: every sheet, its headers, an example row, drop-down lists."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths):
        raise Http404
    response = HttpResponse(
        ledger_template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        'attachment; filename="ledger-template.xlsx"; '
        "filename*=UTF-8''%E5%AD%A6%E4%B9%A0%E5%8F%B0%E8%B4%A6%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response
