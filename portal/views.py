from __future__ import annotations

from functools import cache

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache

from branches.models import Member, Organization
from branches.selectors import member_counts, scope_for

from . import status
from .home import todo_for


@login_not_required
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


class NewPasswordChangeForm(PasswordChangeForm):
    """The new password must differ from the old one: a one-time password read out over
    the phone cannot be kept as the member's own."""

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("new_password1")
        if password and self.user.check_password(password):
            self.add_error(
                "new_password2",
                forms.ValidationError(
                    _("新密码：不能与当前密码（或一次性密码）相同，请设置一个新的密码"),
                    code="password_unchanged",
                ),
            )
        return cleaned


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = NewPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user.must_change_password:
            user.must_change_password = False
            user.one_time_password_expires_at = None
            user.save(update_fields=["must_change_password", "one_time_password_expires_at"])
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


@cache
def _favicon_bytes() -> bytes:
    with open(finders.find("favicon.ico"), "rb") as fh:
        return fh.read()


@login_not_required
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page links (static/favicon.ico)."""
    return HttpResponse(_favicon_bytes(), content_type="image/x-icon")


@never_cache
@login_required
def ops_status(request: HttpRequest) -> HttpResponse:
    """Administrators only (others get 404, as for any page outside their scope): is beat
    ticking, what waits in each Celery queue and for how long, what the outbox holds."""
    if not request.user.is_superuser:
        raise Http404
    beat, queues, outbox = status.beat_status(), status.queues_status(), status.outbox_status()
    return render(
        request,
        "portal/status.html",
        {
            "beat": beat,
            "beat_age": duration_text(beat.age_seconds),
            "beat_late_seconds": status.BEAT_LATE_SECONDS,
            "queues": queues,
            "queue_rows": [(q, duration_text(q.oldest_age_seconds)) for q in queues.queues],
            "outbox": outbox,
            "outbox_age": duration_text(outbox.oldest_age_seconds),
        },
    )


def duration_text(seconds: float | None) -> str:
    """12秒, 3分05秒, 2小时07分, 3天4小时; "—" for nothing."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return _("%(s)d秒") % {"s": s}
    if s < 3600:
        return _("%(m)d分%(s)02d秒") % {"m": s // 60, "s": s % 60}
    if s < 86400:
        return _("%(h)d小时%(m)02d分") % {"h": s // 3600, "m": s % 3600 // 60}
    return _("%(d)d天%(h)d小时") % {"d": s // 86400, "h": s % 86400 // 3600}


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
