from __future__ import annotations

import decimal

from django import forms
from django.forms import formset_factory
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import AnnualPlan, PersonalPlan
from .services import (
    MAX_HOURS,
    MAX_HOURS_TARGET,
    MIN_HOURS,
    BookInput,
    SessionInput,
    ThemeInput,
    allowed_session_types,
)

MONTH_CHOICES = [(f"m{m}", format_lazy(_("{m}月"), m=m)) for m in range(1, 13)]
QUARTER_CHOICES = [
    ("q1", _("第一季度")),
    ("q2", _("第二季度")),
    ("q3", _("第三季度")),
    ("q4", _("第四季度")),
]
MONTH_ERRORS = {
    "required": _("请填写月份"),
    "invalid": _("月份应为1至12的整数"),
    "min_value": _("月份应在1至12之间"),
    "max_value": _("月份应在1至12之间"),
}


class PlanForm(forms.Form):
    required_readings = forms.CharField(
        label=_("必学篇目"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一篇"),
    )
    free_text = forms.CharField(
        label=_("计划说明"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


def plan_form_initial(plan: AnnualPlan | None) -> dict:
    if plan is None:
        return {}
    return {"required_readings": plan.required_readings, "free_text": plan.free_text}


class RowForm(forms.Form):
    """A formset row, shown as a table row: small Bootstrap inputs without labels."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            widget.attrs.setdefault("aria-label", str(field.label or name))


class ThemeForm(RowForm):
    """A theme for one month or one quarter: one select keeps the two exclusive."""

    period = forms.ChoiceField(
        label=_("月份/季度"),
        choices=[("", "—"), (_("季度"), QUARTER_CHOICES), (_("月份"), MONTH_CHOICES)],
        error_messages={
            "required": _("请选择月份或季度"),
            "invalid_choice": _("请选择有效的月份或季度"),
        },
    )
    theme = forms.CharField(
        label=_("学习主题"),
        max_length=200,
        error_messages={
            "required": _("请填写学习主题"),
            "max_length": _("学习主题不能超过200字"),
        },
    )

    def clean_theme(self) -> str:
        theme = self.cleaned_data["theme"].strip()
        if not theme:
            raise forms.ValidationError(_("请填写学习主题"))
        return theme

    def to_input(self) -> ThemeInput:
        period, theme = self.cleaned_data["period"], self.cleaned_data["theme"]
        number = int(period[1:])
        if period.startswith("q"):
            return ThemeInput(theme=theme, quarter=number)
        return ThemeInput(theme=theme, month=number)


def theme_initial(theme) -> dict:
    period = f"q{theme.quarter}" if theme.quarter else f"m{theme.month}"
    return {"period": period, "theme": theme.theme}


class PlannedSessionForm(RowForm):
    type = forms.ChoiceField(
        label=_("类型"),
        error_messages={
            "required": _("请选择活动类型"),
            "invalid_choice": _("该组织不能安排这种类型的活动"),
        },
    )
    month = forms.IntegerField(
        label=_("月份"), min_value=1, max_value=12, error_messages=MONTH_ERRORS
    )
    topic = forms.CharField(
        label=_("主题"),
        max_length=200,
        error_messages={"required": _("请填写活动主题"), "max_length": _("活动主题不能超过200字")},
    )
    hours = forms.DecimalField(
        label=_("学时"),
        max_digits=4,
        decimal_places=1,
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        initial=decimal.Decimal("2"),
        error_messages={
            "required": _("请填写学时"),
            "invalid": _("学时应为数字"),
            "min_value": _("学时应在0.1至24之间"),
            "max_value": _("学时应在0.1至24之间"),
            "max_digits": _("学时应在0.1至24之间"),
            "max_decimal_places": _("学时最多保留1位小数"),
            "max_whole_digits": _("学时应在0.1至24之间"),
        },
    )

    def __init__(self, *args, org_type: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "—"), *allowed_session_types(org_type)]

    def clean_topic(self) -> str:
        topic = self.cleaned_data["topic"].strip()
        if not topic:
            raise forms.ValidationError(_("请填写活动主题"))
        return topic

    def to_input(self) -> SessionInput:
        d = self.cleaned_data
        return SessionInput(type=d["type"], month=d["month"], topic=d["topic"], hours=d["hours"])


def planned_session_initial(planned) -> dict:
    return {
        "type": planned.type,
        "month": planned.month,
        "topic": planned.topic,
        "hours": planned.hours,
    }


class BookForm(RowForm):
    title = forms.CharField(
        label=_("书名"),
        max_length=200,
        error_messages={"required": _("请填写书名"), "max_length": _("书名不能超过200字")},
    )
    author = forms.CharField(
        label=_("作者"),
        max_length=100,
        required=False,
        error_messages={"max_length": _("作者不能超过100字")},
    )

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("请填写书名"))
        return title

    def to_input(self) -> BookInput:
        return BookInput(title=self.cleaned_data["title"], author=self.cleaned_data["author"])


def book_initial(book) -> dict:
    return {"title": book.title, "author": book.author}


ThemeFormSet = formset_factory(ThemeForm, extra=2, can_delete=True)
PlannedSessionFormSet = formset_factory(PlannedSessionForm, extra=3, can_delete=True)
BookFormSet = formset_factory(BookForm, extra=2, can_delete=True)


def kept_inputs(formset) -> list:
    """The rows to save: filled in and not marked for deletion, in the order shown.

    An extra row left blank has empty cleaned_data; a row shown from the saved plan is always
    validated, so clearing its fields is an error (delete it with the checkbox instead).
    """
    return [
        form.to_input()
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("退回意见"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("退回时请填写退回意见"),
            "max_length": _("退回意见不能超过500字"),
        },
    )

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError(_("退回时请填写退回意见"))
        return comment


class PersonalPlanForm(forms.Form):
    goals = forms.CharField(
        label=_("学习目标"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写学习目标")},
    )
    books = forms.CharField(
        label=_("计划阅读书目"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一本"),
    )
    hours_target = forms.DecimalField(
        label=_("计划自学学时"),
        max_digits=5,
        decimal_places=1,
        min_value=decimal.Decimal("0"),
        max_value=MAX_HOURS_TARGET,
        initial=decimal.Decimal("156"),
        help_text=_("全年合计；每周3小时约为156学时"),
        error_messages={
            "required": _("请填写计划自学学时"),
            "invalid": _("计划自学学时应为数字"),
            "min_value": _("计划自学学时应在0至2000之间"),
            "max_value": _("计划自学学时应在0至2000之间"),
            "max_digits": _("计划自学学时应在0至2000之间"),
            "max_whole_digits": _("计划自学学时应在0至2000之间"),
            "max_decimal_places": _("计划自学学时最多保留1位小数"),
        },
    )

    def clean_goals(self) -> str:
        goals = self.cleaned_data["goals"].strip()
        if not goals:
            raise forms.ValidationError(_("请填写学习目标"))
        return goals


def personal_plan_initial(plan: PersonalPlan | None) -> dict:
    if plan is None:
        return {}
    return {"goals": plan.goals, "books": plan.books, "hours_target": plan.hours_target}
