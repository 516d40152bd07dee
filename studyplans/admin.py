"""Admin: plain, read-only views of plans for the superuser.

The workflow (报送, 备案, 退回) runs through the services, which keep the timestamps and the
event trail consistent; editing the status here would bypass both, so it is read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    AnnualPlan,
    PersonalPlan,
    PlanEvent,
    PlannedSession,
    PlanTheme,
    RecommendedBook,
    Submission,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ThemeInline(ReadOnlyInline):
    model = PlanTheme


class PlannedSessionInline(ReadOnlyInline):
    model = PlannedSession
    raw_id_fields = ("session",)


class BookInline(ReadOnlyInline):
    model = RecommendedBook


class EventInline(ReadOnlyInline):
    model = PlanEvent
    fields = ("at", "action", "by", "comment")
    readonly_fields = ("at",)


@admin.register(AnnualPlan)
class AnnualPlanAdmin(admin.ModelAdmin):
    list_display = ("organization", "year", "status", "first_submitted_at", "filed_at")
    list_filter = ("status", "year")
    search_fields = ("organization__name", "organization__code")
    list_select_related = ("organization",)
    inlines = (ThemeInline, PlannedSessionInline, BookInline, EventInline)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PersonalPlan)
class PersonalPlanAdmin(admin.ModelAdmin):
    list_display = ("member", "year", "status", "hours_target", "submitted_at", "acknowledged_at")
    list_filter = ("status", "year")
    search_fields = ("member__name", "member__member_no")
    list_select_related = ("member",)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("organization", "kind", "year", "version", "sent_at")
    list_filter = ("kind", "year")
    search_fields = ("organization__name", "organization__code")
    list_select_related = ("organization",)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
