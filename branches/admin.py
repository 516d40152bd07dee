from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import (
    Exemption,
    Member,
    Membership,
    Organization,
    PersonalDataAccess,
    Reviewer,
    Role,
    User,
)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("学习园地", {"fields": ("must_change_password",)}))

    def save_model(self, request, obj, form, change) -> None:
        # A password the administrator hands out expires like a secretary's one-time one.
        if obj.must_change_password and obj.one_time_password_expires_at is None:
            obj.one_time_password_expires_at = timezone.now() + dt.timedelta(
                hours=settings.ONE_TIME_PASSWORD_HOURS
            )
        elif not obj.must_change_password:
            obj.one_time_password_expires_at = None
        super().save_model(request, obj, form, change)


@admin.register(Organization)
class OrganizationAdmin(TreeAdmin):
    form = movenodeform_factory(Organization)
    list_display = ("name", "code", "type", "profile_name")
    search_fields = ("name", "code")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organization",)


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ("organization",)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("member_no", "name", "category", "cadre_level")
    search_fields = ("member_no", "name")
    list_filter = ("category", "cadre_level")
    inlines = [MembershipInline, RoleInline]
    raw_id_fields = ("user",)
    actions = ["export_personal_data", "erase_personal_data"]

    # The admin's change view shows the full mobile and ID numbers: every read is logged.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        from .privacy import log_access

        if request.method == "GET":
            member = self.get_object(request, object_id)
            if member is not None and (member.mobile or member.id_number):
                log_access(
                    user=request.user, member=member, what="管理后台党员页（完整手机号、身份证号）"
                )
        return super().change_view(request, object_id, form_url, extra_context)

    # A copy of personal data leaves the system: it takes the change permission, not the
    # view permission that only lets a staff user look.
    @admin.action(description="导出所选党员的个人数据（JSON）", permissions=["change"])
    def export_personal_data(self, request, queryset):
        import json

        from django.http import HttpResponse

        from .privacy import log_access, member_export

        data = []
        for member in queryset:
            data.append(member_export(member))
            log_access(user=request.user, member=member, what="管理后台导出个人数据（JSON）")
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        return response

    @admin.action(description="删除所选党员的个人信息（考勤记录匿名保留）", permissions=["delete"])
    def erase_personal_data(self, request, queryset):
        from .privacy import member_erase

        for member in queryset:
            member_erase(member)
        self.message_user(request, f"已删除 {queryset.count()} 名党员的个人信息")


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ("user", "organization")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("user",)


admin.site.register(Exemption)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "member", "what")
    raw_id_fields = ("user", "member")
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False
