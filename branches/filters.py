from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Category, Member, Membership, Role, RoleKind, User, on_date_q


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("姓名或编号"), method="filter_q")
    org = django_filters.CharFilter(label=_("组织编码（含下级）"), method="filter_org")
    role = django_filters.ChoiceFilter(
        label=_("职务"), choices=RoleKind.choices, method="filter_role"
    )
    category = django_filters.ChoiceFilter(label=_("类别"), choices=Category.choices)

    class Meta:
        model = Member
        fields = ["q", "org", "role", "category"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if hasattr(field, "choices") else "form-control"
            field.widget.attrs.setdefault("class", f"{css} form-control-sm")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(member_no__icontains=value))

    def filter_org(self, queryset, name, value):
        from .models import Organization

        org = Organization.objects.filter(code=value).first()
        if org is None:
            return queryset.none()
        current = Membership.objects.filter(
            on_date_q(timezone.localdate()),
            member=OuterRef("pk"),
            organization__path__startswith=org.path,
        )
        return queryset.filter(Exists(current))

    def filter_role(self, queryset, name, value):
        roles = Role.objects.current().filter(member=OuterRef("pk"), kind=value)
        return queryset.filter(Exists(roles))


def member_list_filter(user: User, params: QueryDict | None) -> MemberFilter:
    """The member list's filter over the members `user` may see, with their current
    enrolments and roles prefetched: the page and its export read the same rows."""
    from .selectors import members_visible_to

    base = members_visible_to(user).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.current().select_related("organization"),
            to_attr="current_memberships",
        ),
        Prefetch(
            "roles",
            queryset=Role.objects.on(timezone.localdate()).select_related("organization"),
            to_attr="current_roles",
        ),
    )
    return MemberFilter(params or None, queryset=base)
