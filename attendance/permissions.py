"""Who may change sessions, attendance and members' records: the checks the services call.

Scopes come from branches (the one place that decides them, through the selectors); the
refusal type and the `by=None` convention (the system itself) are branches.permissions'.
Nobody decides on their own request: a secretary's leave, note or record goes to the
organization above, as a reviewer's would.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from branches.models import Member, Organization, User
from branches.permissions import WriteDenied, check_member_write, check_org_write
from branches.selectors import scope_for

from .models import AttendanceEntry, LeaveRequest, StudySession
from .selectors import leave_requests_decidable_by


def check_session_write(*, by: User | None, session: StudySession) -> None:
    check_org_write(by=by, organization=session.organization)


def check_session_create(*, by: User | None, organization: Organization) -> None:
    check_org_write(by=by, organization=organization)


def check_unlock(*, by: User | None, session: StudySession) -> None:
    if by is not None and not scope_for(by).can_review_path(session.organization.path):
        raise WriteDenied(
            _("只有%(org)s的审阅人（或系统管理员）可以解锁考勤")
            % {"org": session.organization.name}
        )


def check_not_own(*, by: User | None, member: Member, what: str) -> None:
    if by is not None and member.user_id is not None and member.user_id == by.pk:
        raise WriteDenied(
            _("不能审批自己的%(what)s：请由上级组织的书记或系统管理员审批") % {"what": what}
        )


def check_leave_decide(*, by: User | None, request: LeaveRequest) -> None:
    check_not_own(by=by, member=request.member, what=_("请假申请"))
    if by is not None and not leave_requests_decidable_by(by).filter(pk=request.pk).exists():
        raise WriteDenied(
            _("您不能审批这条请假申请：只有%(org)s的书记、委员（中心组学习由组长）可以审批")
            % {"org": request.session.organization.name}
        )


def check_member_decision(*, by: User | None, member: Member, what: str) -> None:
    """Reviewing a member's note or confirming their record: someone else, in scope."""
    check_not_own(by=by, member=member, what=what)
    check_member_write(by=by, member=member)


def check_own_or_member_write(*, by: User | None, member: Member) -> None:
    """A member enters their own records and make-ups; a secretary those of their roll."""
    if by is not None and member.user_id is not None and member.user_id == by.pk:
        return
    check_member_write(by=by, member=member)


def check_makeup(*, by: User | None, entry: AttendanceEntry) -> None:
    """The member records their own make-up; a secretary does it for the session's roll."""
    if by is not None and entry.member.user_id is not None and entry.member.user_id == by.pk:
        return
    check_session_write(by=by, session=entry.session)
