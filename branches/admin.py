from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import Exemption, Member, Membership, Organization, Reviewer, Role, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("学习园地", {"fields": ("must_change_password",)}))


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


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ("user", "organization")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("user",)


admin.site.register(Exemption)
