from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from attendance.models import SessionType
from branches.forms import DateInput

from .models import Exam


class ProfileCopyForm(forms.Form):
    name = forms.CharField(label=_("新方案名称"), max_length=50)


class ProfileOptionsForm(forms.Form):
    study_types = forms.MultipleChoiceField(
        label=_("计为集体学习的活动类型"),
        choices=SessionType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_excused = forms.BooleanField(
        label=_("请假不计入应到人数（参与率分母）"), required=False
    )
    pooled_average = forms.BooleanField(
        label=_("平均参与率按全年合计计算（Σ实到/Σ应到）"), required=False
    )
    note = forms.CharField(label=_("修改说明"), max_length=200, required=False)


class RuleEditForm(forms.Form):
    enabled = forms.BooleanField(label=_("启用"), required=False)
    params = forms.CharField(
        label=_("参数（JSON）"), widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"})
    )

    def __init__(self, *args, rule, **kwargs) -> None:
        self.rule = rule
        super().__init__(*args, **kwargs)

    def clean_params(self) -> dict:
        text = self.cleaned_data["params"]
        try:
            params = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("%(id)s 的参数不是有效的 JSON（第 %(line)d 行第 %(col)d 列）")
                % {"id": self.rule.rule_id, "line": exc.lineno, "col": exc.colno}
            ) from exc
        if not isinstance(params, dict):
            raise forms.ValidationError(
                _("%(id)s 的参数必须是一个 JSON 对象") % {"id": self.rule.rule_id}
            )
        missing = [k for k in self.rule.params if k not in params]
        if missing:
            raise forms.ValidationError(
                _("%(id)s 的参数缺少：%(keys)s")
                % {"id": self.rule.rule_id, "keys": "、".join(missing)}
            )
        for key, original in self.rule.params.items():
            value = params[key]
            numeric = isinstance(original, int | float) and not isinstance(original, bool)
            if numeric and (
                not isinstance(value, int | float) or isinstance(value, bool) or value < 0
            ):
                raise forms.ValidationError(
                    _("%(id)s 的参数 %(key)s 应为不小于 0 的数字")
                    % {"id": self.rule.rule_id, "key": key}
                )
            if key == "period" and value not in ("month", "quarter", "half_year"):
                raise forms.ValidationError(
                    _("%(id)s 的周期只能是 month、quarter 或 half_year") % {"id": self.rule.rule_id}
                )
            if (
                key == "min"
                and isinstance(value, float)
                and value > 1
                and isinstance(original, float)
            ):
                raise forms.ValidationError(
                    _("%(id)s 的比例应在 0 到 1 之间") % {"id": self.rule.rule_id}
                )
        return params


class ExamForm(forms.ModelForm):
    class Meta:
        model = Exam
        fields = ["title", "date", "full_marks"]
        widgets = {"date": DateInput()}


class ScoreUploadForm(forms.Form):
    file = forms.FileField(label=_("成绩表（.xlsx，列：党员编号、成绩）"))


class SampleForm(forms.Form):
    month = forms.DateField(
        label=_("月份"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    size = forms.IntegerField(label=_("抽查数量"), min_value=1, max_value=1000, initial=40)
    weighted = forms.BooleanField(
        label=_("向进度落后、五好不达标的支部倾斜"), required=False, initial=True
    )


class CheckForm(forms.Form):
    checked_on = forms.DateField(label=_("检查日期"), widget=DateInput())
    looked_at = forms.MultipleChoiceField(
        label=_("检查内容"),
        widget=forms.CheckboxSelectMultiple,
        choices=[(x, x) for x in ("考勤台账", "学习记录", "学习笔记", "学习计划", "学习档案")],
    )
    findings = forms.CharField(
        label=_("发现的问题（没有则留空）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    rectify_by = forms.DateField(label=_("整改期限"), widget=DateInput(), required=False)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("整改情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
