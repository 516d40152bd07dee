"""Admin: the holiday list (kept by the administrator), and plain views of the records.

Secretaries work in the portal's own pages, where the services enforce the rules (frozen
lists, locks, leave in time); the admin is the superuser's back door, so the attendance
list is shown read-only here and its history through simple_history.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    AttendanceEntry,
    FieldResearch,
    Holiday,
    LeaveRequest,
    Publication,
    SelfStudy,
    StudyNote,
    StudySession,
    Talk,
    TrainingRecord,
)
from .schedule import WEEKDAY_NAMES


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "name", "is_workday")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"
    ordering = ("date",)
    # Editing the name and the 调休 flag in the list makes entering a year's notice quick.
    list_editable = ("name", "is_workday")

    @admin.display(description=_("星期"))
    def weekday(self, obj: Holiday) -> str:
        return str(WEEKDAY_NAMES[obj.date.weekday()])


class AttendanceEntryInline(admin.TabularInline):
    model = AttendanceEntry
    fields = ("member", "organization", "status", "source", "checked_in_at", "override_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: StudySession | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AttendanceEntry]:
        return super().get_queryset(request).select_related("member", "organization")


@admin.register(StudySession)
class StudySessionAdmin(admin.ModelAdmin):
    list_display = ("code", "date", "type", "topic", "organization")
    list_filter = ("type",)
    search_fields = ("code", "topic", "organization__name", "organization__code")
    date_hierarchy = "date"
    autocomplete_fields = ("organization", "central_speakers")
    raw_id_fields = ("created_by",)
    list_select_related = ("organization",)
    inlines = [AttendanceEntryInline]


@admin.register(AttendanceEntry)
class AttendanceEntryAdmin(SimpleHistoryAdmin):
    list_display = ("session", "member", "status", "source", "updated_at")
    list_filter = ("status", "source")
    search_fields = ("session__code", "member__name", "member__member_no")
    raw_id_fields = ("session", "member", "organization", "updated_by")
    list_select_related = ("session", "member")


@admin.register(LeaveRequest)
class LeaveRequestAdmin(admin.ModelAdmin):
    list_display = ("member", "session", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("member__name", "session__code")
    raw_id_fields = ("session", "member", "decided_by")
    list_select_related = ("member", "session")


@admin.register(StudyNote)
class StudyNoteAdmin(admin.ModelAdmin):
    list_display = ("title", "member", "kind", "status", "word_count", "submitted_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "member__name")
    raw_id_fields = ("member", "session", "reviewed_by", "similar_to")
    list_select_related = ("member",)


@admin.register(SelfStudy)
class SelfStudyAdmin(admin.ModelAdmin):
    list_display = ("member", "date", "hours", "material")
    search_fields = ("member__name", "material")
    date_hierarchy = "date"
    raw_id_fields = ("member",)
    list_select_related = ("member",)


class MemberRecordAdmin(admin.ModelAdmin):
    list_filter = ("status",)
    search_fields = ("member__name", "member__member_no")
    raw_id_fields = ("member", "entered_by", "confirmed_by")
    list_select_related = ("member",)


@admin.register(TrainingRecord)
class TrainingRecordAdmin(MemberRecordAdmin):
    list_display = ("member", "course", "start_date", "end_date", "hours", "status")


@admin.register(Publication)
class PublicationAdmin(MemberRecordAdmin):
    list_display = ("member", "title", "outlet", "level", "published_on", "status")


@admin.register(FieldResearch)
class FieldResearchAdmin(MemberRecordAdmin):
    list_display = ("member", "topic", "start_date", "end_date", "status")


@admin.register(Talk)
class TalkAdmin(MemberRecordAdmin):
    list_display = ("member", "kind", "title", "date", "status")
    raw_id_fields = (*MemberRecordAdmin.raw_id_fields, "session")
