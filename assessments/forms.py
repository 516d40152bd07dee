from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from attendance.models import SessionType
from branches.forms import DateInput

from . import params as params_catalog
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
    """One rule of a profile: 启用 and a labelled field per parameter, with unit and bounds
    from the parameter catalog (assessments.params). ``cleaned_data["params"]`` holds the
    parameters in the rule's own shape, ready for services.profile_update."""

    enabled = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args, rule, **kwargs) -> None:
        self.rule = rule
        initial = kwargs.pop("initial", None) or {}
        initial.setdefault("enabled", rule.enabled)
        super().__init__(*args, initial=initial, **kwargs)
        self.param_names: list[str] = []
        _style(self.fields["enabled"])
        for key, value in rule.params.items():
            spec = params_catalog.spec_for(rule.kind, key, value)
            for name, form_field, current in self._fields_for(key, spec, value):
                if not hasattr(form_field, "unit"):
                    form_field.unit = spec.unit
                _style(form_field)
                self.fields[name] = form_field
                self.initial.setdefault(name, current)
                self.param_names.append(name)

    def _fields_for(self, key: str, spec: params_catalog.ParamSpec, value: Any):
        name = f"p__{key}"
        if spec.kind == params_catalog.COUNT:
            yield name, _count_field(spec.label, spec), value
        elif spec.kind == params_catalog.HOURS:
            yield name, _decimal_field(spec.label, spec), value
        elif spec.kind == params_catalog.RATIO:
            yield name, _decimal_field(spec.label, spec, places=2), _percent(value)
        elif spec.kind == params_catalog.CHOICE:
            choices = spec.choices
            allowed = self.rule.params.get("period_choices") if key == "period" else None
            if allowed:
                choices = [c for c in choices if c[0] in allowed]
            yield name, forms.ChoiceField(label=spec.label, choices=choices), value
        elif spec.kind == params_catalog.MULTI:
            choices = list(spec.choices)
            choices += [(v, v) for v in value if v not in dict(choices)]
            yield (
                name,
                forms.MultipleChoiceField(
                    label=spec.label,
                    choices=choices,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={"required": _("至少选择一项")},
                ),
                list(value),
            )
        elif spec.kind == params_catalog.MONTH_DAY:
            yield (
                name,
                forms.CharField(label=spec.label, max_length=5, help_text=spec.help),
                value,
            )
        elif spec.kind == params_catalog.FLAG:
            yield name, forms.BooleanField(label=spec.label, required=False), value
        elif spec.kind == params_catalog.YEAR:
            yield (
                name,
                forms.IntegerField(
                    label=spec.label, required=False, min_value=spec.min, max_value=spec.max
                ),
                value,
            )
        elif spec.kind == params_catalog.TIERS:
            for i, tier in enumerate(value):
                who = params_catalog.tier_condition(tier.get("when", {}))
                for sub in ("min_days", "min_hours"):
                    if sub in tier:
                        sub_spec = params_catalog.TIER_FIELDS[sub]
                        make = (
                            _count_field
                            if sub_spec.kind == params_catalog.COUNT
                            else _decimal_field
                        )
                        form_field = make(f"{who}：{sub_spec.label}", sub_spec)
                        form_field.unit = sub_spec.unit
                        yield f"{name}__{i}__{sub}", form_field, tier[sub]
        elif spec.kind == params_catalog.RATIOS:
            ratio = params_catalog.ParamSpec(
                "", params_catalog.RATIO, "%", Decimal(0), Decimal(100)
            )
            for i, share in enumerate(value):
                label = _("第 %(n)d 阶段") % {"n": i + 1}
                form_field = _decimal_field(label, ratio, places=2)
                form_field.unit = "%"
                yield f"{name}__{i}", form_field, _percent(share)
        # FIXED parameters (how the rule is wired) are shown, not edited.

    def clean(self):
        data = super().clean()
        deadline = data.get("p__deadline")
        if deadline:
            error = params_catalog.month_day_error(deadline)
            if error:
                self.add_error("p__deadline", error)
        if any(name in self.errors for name in self.param_names):
            return data
        data["params"] = self._params(data)
        return data

    def _params(self, data: dict) -> dict:
        """The new parameters, in the same shape and JSON types as the rule's current ones."""
        params: dict[str, Any] = {}
        for key, value in self.rule.params.items():
            spec = params_catalog.spec_for(self.rule.kind, key, value)
            name = f"p__{key}"
            if spec.kind in (params_catalog.COUNT, params_catalog.HOURS):
                params[key] = _json_number(data[name], like=value)
            elif spec.kind == params_catalog.RATIO:
                params[key] = float(data[name] / 100)
            elif spec.kind == params_catalog.TIERS:
                tiers = []
                for i, tier in enumerate(value):
                    tier = dict(tier)
                    for sub in ("min_days", "min_hours"):
                        if sub in tier:
                            tier[sub] = _json_number(data[f"{name}__{i}__{sub}"], like=tier[sub])
                    tiers.append(tier)
                params[key] = tiers
            elif spec.kind == params_catalog.RATIOS:
                params[key] = [float(data[f"{name}__{i}"] / 100) for i in range(len(value))]
            elif spec.kind == params_catalog.FIXED:
                params[key] = value
            else:
                params[key] = data[name]
        return params

    def bound_param_fields(self) -> list:
        return [self[name] for name in self.param_names]

    def fixed_lines(self) -> list[params_catalog.ParamLine]:
        """The parameters that are shown but not edited, in Chinese."""
        return [
            line
            for line in params_catalog.describe(self.rule.kind, self.rule.params)
            if params_catalog.spec_for(self.rule.kind, line.key, self.rule.params[line.key]).kind
            == params_catalog.FIXED
        ]

    def error_lines(self) -> list[str]:
        """Each error as「规则 参数：问题」for the summary above the form."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            for error in errors:
                lines.append(f"{self.rule.rule_id} {label}：{error}")
        return lines


def _style(form_field: forms.Field) -> None:
    """Bootstrap classes, and `ui` for the template: a group of boxes, one box, or an input."""
    widget = form_field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        css, form_field.ui = "form-check-input", "boxes"
    elif isinstance(widget, forms.CheckboxInput):
        css, form_field.ui = "form-check-input", "box"
    elif isinstance(widget, forms.Select):
        css, form_field.ui = "form-select form-select-sm", "input"
    else:
        css, form_field.ui = "form-control form-control-sm", "input"
    widget.attrs["class"] = css


def _count_field(label: str, spec: params_catalog.ParamSpec) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=spec.min, max_value=spec.max)


def _decimal_field(
    label: str, spec: params_catalog.ParamSpec, *, places: int = 1
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=spec.min, max_value=spec.max, max_digits=9, decimal_places=places
    )


def _percent(share: float) -> Decimal:
    """0.8 as 80, 0.855 as 85.5: the share a person types as a percentage."""
    value = (Decimal(str(share)) * 100).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _json_number(value: Decimal | int, *, like: Any) -> int | float:
    """Keep a whole number an int (12 次 stays 12); anything else becomes a float."""
    if isinstance(value, int):
        return value
    if value == value.to_integral_value() and not isinstance(like, float):
        return int(value)
    return float(value)


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
