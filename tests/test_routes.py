"""Every route of the portal has an entry in an access table: a new URL without one fails."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from tests.assessments import test_pages as assessments_access
from tests.attendance import test_access as attendance_access
from tests.branches import test_access as branches_access
from tests.portal import test_operations as operations_access
from tests.reports import test_delivery as delivery_access
from tests.reports import test_exports as exports_access
from tests.reports import test_notices as notices_access
from tests.reports import test_summary_document as summary_access
from tests.studyplans import test_access as studyplans_access


def _route_names(patterns, prefix="") -> set[str]:
    names = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue
            ns = f"{p.namespace}:" if p.namespace else prefix
            names |= _route_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_route_has_an_entry_in_an_access_table():
    covered = (
        set(branches_access.ROUTES)
        | branches_access.POST_ONLY
        | branches_access.PUBLIC
        | set(attendance_access.GET_ROUTES)
        | attendance_access.POST_ONLY
        | attendance_access.PUBLIC
        | set(assessments_access.GET_ROUTES)
        | assessments_access.OTHER_ROUTES
        | set(summary_access.GET_ROUTES)
        | set(studyplans_access.GET_ROUTES)
        | studyplans_access.POST_ONLY
        | set(delivery_access.ROUTES)
        | set(operations_access.ROUTES)
        | operations_access.PUBLIC
        | exports_access.ROUTES
        | set(notices_access.ROUTES)
        # Dashboard, exports and supervision reports: tests/reports/test_dashboard.py and
        # tests/assessments/test_supervision.py walk the cast through them.
        | {
            "reports:dashboard",
            "reports:dashboard_export",
            "reports:attendance_register",
            "reports:supervision_report_xlsx",
            "reports:supervision_report_pdf",
            "reports:org_verdicts_xlsx",
            "reports:overview_xlsx",
            "reports:member_verdicts_xlsx",
        }
    )
    assert _route_names(get_resolver().url_patterns) == covered
