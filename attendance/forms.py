from __future__ import annotations

import decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.forms import ConfirmFarDateMixin, DateInput
from branches.models import Member, Organization

from .models import (
    FieldResearch,
    NoteKind,
    Publication,
    SessionType,
    StudySession,
    Talk,
    TrainingRecord,
    session_hours_error,
)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", **kwargs)


class SessionForm(ConfirmFarDateMixin, forms.Form):
    type = forms.ChoiceField(label=_("类型"), choices=SessionType.choices)
    date = forms.DateField(label=_("日期"), widget=DateInput())
    start_time = forms.TimeField(label=_("开始时间"), widget=TimeInput())
    end_time = forms.TimeField(label=_("结束时间"), widget=TimeInput())
    hours = forms.DecimalField(
        label=_("学时"),
        max_digits=4,
        decimal_places=1,
        min_value=decimal.Decimal("0.1"),
        max_value=decimal.Decimal("24"),
    )
    topic = forms.CharField(label=_("主题"), max_length=200)
    speaker = forms.CharField(label=_("主讲人"), max_length=100, required=False)
    location = forms.CharField(label=_("地点"), max_length=100, required=False)
    content = forms.CharField(
        label=_("学习记录"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    qr_enabled = forms.BooleanField(label=_("启用扫码签到"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("结束时间必须晚于开始时间"))
        hours_error = session_hours_error(start_time=start, end_time=end, hours=data.get("hours"))
        if hours_error:
            self.add_error("hours", hours_error)
        return data


# The fields that become the session's own fields (the confirmation is not stored).
SESSION_FORM_FIELDS = tuple(f for f in SessionForm.base_fields if f != "confirm_date")


class SessionCreateForm(SessionForm):
    organization = forms.ModelChoiceField(
        label=_("组织"), queryset=Organization.objects.none(), to_field_name="code"
    )
    field_order = ["organization"]

    def __init__(self, *args, organizations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


def session_initial(session: StudySession) -> dict:
    return {f: getattr(session, f) for f in SESSION_FORM_FIELDS}


class CentralSessionForm(SessionForm):
    """A 中心组学习 session also names its 中心发言 speakers (JF-C2), from the 中心组."""

    central_speakers = forms.ModelMultipleChoiceField(
        label=_("中心发言人"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("每次安排 2 至 3 名中心组成员作中心发言"),
    )

    def __init__(self, *args, speakers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["central_speakers"].queryset = speakers


class LeaveForm(forms.Form):
    reason = forms.CharField(label=_("请假事由"), max_length=200)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("refuse", _("不批准"))])
    note = forms.CharField(label=_("意见"), max_length=200, required=False)


class MakeUpForm(forms.Form):
    date = forms.DateField(label=_("补课日期"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("补课内容"), widget=forms.Textarea(attrs={"rows": 3}))


class UnlockForm(forms.Form):
    reason = forms.CharField(label=_("解锁理由"), max_length=200)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件（PDF、图片、Word）"))


class SelfStudyForm(forms.Form):
    # One token per rendered form: the same form posted twice records once.
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=36)

    date = forms.DateField(label=_("日期"), widget=DateInput(), initial=timezone.localdate)
    hours = forms.DecimalField(
        label=_("学时"),
        max_digits=4,
        decimal_places=1,
        min_value=decimal.Decimal("0.1"),
        max_value=decimal.Decimal("24"),
    )
    material = forms.CharField(label=_("学习内容"), max_length=200)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=NoteKind.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 12}))
    session = forms.ModelChoiceField(
        label=_("关联活动"),
        queryset=StudySession.objects.none(),
        required=False,
        to_field_name="code",
    )
    book = forms.CharField(label=_("关联书目"), max_length=200, required=False)

    def __init__(self, *args, sessions=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sessions is not None:
            self.fields["session"].queryset = sessions


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("通过")), ("return", _("退回"))])
    comment = forms.CharField(label=_("审阅意见"), max_length=500, required=False)


def _dates_ordered(form: forms.ModelForm) -> None:
    data = form.cleaned_data
    if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
        form.add_error("end_date", _("结束日期不能早于开始日期"))


class TrainingForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["course", "organizer", "start_date", "end_date", "hours"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def clean(self):
        data = super().clean()
        _dates_ordered(self)
        return data


class PublicationForm(forms.ModelForm):
    class Meta:
        model = Publication
        fields = ["title", "outlet", "level", "published_on"]
        widgets = {"published_on": DateInput()}


class ResearchForm(forms.ModelForm):
    class Meta:
        model = FieldResearch
        fields = ["topic", "start_date", "end_date", "report_title"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def clean(self):
        data = super().clean()
        _dates_ordered(self)
        return data


class TalkForm(forms.ModelForm):
    class Meta:
        model = Talk
        fields = ["kind", "title", "date", "session"]
        widgets = {"date": DateInput()}

    def __init__(self, *args, sessions=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = (
            sessions if sessions is not None else StudySession.objects.none()
        )
        self.fields["session"].required = False


RECORD_KINDS = {
    "training": (TrainingRecord, TrainingForm, _("培训记录")),
    "publication": (Publication, PublicationForm, _("发表文章")),
    "research": (FieldResearch, ResearchForm, _("调研")),
    "talk": (Talk, TalkForm, _("讲课/发言")),
}
