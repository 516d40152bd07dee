from __future__ import annotations

from django.contrib import admin

from .models import Delivery, DeliveryAddresses, DeliveryAttempt, SummaryText, SummaryVersion

# The periodic tasks (annual run on 2 January, reminder on 24 January) are edited under
# "Periodic tasks" of django-celery-beat; reports/migrations/0002_beat_schedule.py made them.


@admin.register(DeliveryAddresses)
class DeliveryAddressesAdmin(admin.ModelAdmin):
    list_display = ("organization", "organization_dept_email", "propaganda_dept_email")
    search_fields = ("organization__name", "organization__code", "organization_dept_email")
    autocomplete_fields = ("organization",)


@admin.register(SummaryText)
class SummaryTextAdmin(admin.ModelAdmin):
    list_display = ("organization", "year", "updated_by", "updated_at")
    list_filter = ("year",)
    search_fields = ("organization__name", "organization__code")
    autocomplete_fields = ("organization",)
    raw_id_fields = ("updated_by",)


@admin.register(SummaryVersion)
class SummaryVersionAdmin(admin.ModelAdmin):
    # Versions are the record of what was sent: made by the service, never edited by hand.
    list_display = ("organization", "year", "number", "reason", "created_at")
    list_filter = ("year",)
    search_fields = ("organization__name", "organization__code")
    readonly_fields = ("organization", "year", "number", "pdf", "sha256", "reason", "created_at")

    def has_add_permission(self, request) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "result", "error")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # Read-only: the row is the idempotency record, and editing it could resend or hide a mail.
    list_display = ("organization", "year", "kind", "version", "status", "sent_at", "attempts")
    list_filter = ("status", "kind", "year")
    search_fields = ("organization__name", "organization__code", "message_id")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
