from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from branches.models import Member, Organization
from branches.selectors import member_counts, scope_for

from .home import todo_for


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and (if configured) Redis answer; 503 and which one failed if not.

    `?only=database` checks the database alone: the pages work while Redis is down (the
    drills check it), so a load balancer should not take every web instance out for it."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means unhealthy
        checks["database"] = f"error: {type(exc).__name__}"
    if request.GET.get("only") == "database":
        pass
    elif settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
            ).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["redis"] = "not configured (Celery runs eagerly)"
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改"))
        return redirect("home")
    return render(
        request,
        "registration/password_change.html",
        {"form": form, "forced": request.user.must_change_password},
    )


class PreferencesForm(forms.Form):
    email = forms.EmailField(
        label=_("电子邮箱"), required=False, help_text=_("接收每周提醒和系统通知")
    )
    digest = forms.BooleanField(label=_("接收每周一的待办提醒邮件"), required=False)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PreferencesForm(
        request.POST or None, initial={"email": user.email, "digest": not user.digest_opt_out}
    )
    if request.method == "POST" and form.is_valid():
        user.email = form.cleaned_data["email"]
        user.digest_opt_out = not form.cleaned_data["digest"]
        user.save(update_fields=["email", "digest_opt_out"])
        messages.success(request, _("已保存"))
        return redirect("preferences")
    return render(request, "registration/preferences.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The to-do list of each role (portal.home), then the user's record and organizations."""
    scope = scope_for(request.user)
    member = None
    if scope.member_id is not None:
        member = Member.objects.filter(pk=scope.member_id).first()
    roots = list(
        Organization.objects.filter(path__in=scope.read_paths).order_by("path")
        if not scope.is_admin
        else Organization.objects.get_root_nodes()
    )
    counts = member_counts(organizations=roots, day=timezone.localdate())
    for org in roots:
        org.member_count = counts.get(org.pk, 0)
        org.can_write = scope.can_write_path(org.path)
    return render(
        request,
        "branches/home.html",
        {
            "member": member,
            "membership": member.current_membership() if member else None,
            "roots": roots,
            "scope": scope,
            "todo": todo_for(request),
        },
    )
