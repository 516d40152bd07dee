from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    CadreLevel,
    Category,
    ExemptionKind,
    Gender,
    Member,
    Organization,
    OrgType,
    RoleKind,
    far_from_today,
    id_number_validator,
    member_dates_errors,
    mobile_validator,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ConfirmFarDateMixin(forms.Form):
    """A typed date more than a year from today is refused until the user ticks 「确认日期无误」,
    which appears (as a checkbox next to the error) only then. Editing other fields of a
    record whose date stays the same asks nothing."""

    far_date_field = "date"
    confirm_date = forms.BooleanField(
        label=_("确认日期无误"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The checkbox, once shown, stands right below the date it confirms.
        names = [n for n in self.fields if n != "confirm_date"]
        names.insert(names.index(self.far_date_field) + 1, "confirm_date")
        self.order_fields(names)

    def clean(self):
        data = super().clean()
        name = self.far_date_field
        day, today = data.get(name), timezone.localdate()
        if (
            day is None
            or name not in self.changed_data
            or not far_from_today(day, today)
            or data.get("confirm_date")
        ):
            return data
        self.fields["confirm_date"].widget = forms.CheckboxInput()
        self.add_error(
            name,
            forms.ValidationError(
                _(
                    "日期 %(d)s 距今天（%(t)s）超过一年，请核对年份；"
                    "如确认无误，请勾选「确认日期无误」后再保存"
                )
                % {"d": day.isoformat(), "t": today.isoformat()},
                code="date_needs_confirmation",
            ),
        )
        return data


class OrganizationForm(forms.Form):
    code = forms.CharField(label=_("编码"), max_length=32)
    name = forms.CharField(label=_("名称"), max_length=100)
    type = forms.ChoiceField(label=_("类型"), choices=OrgType.choices)
    profile_name = forms.CharField(
        label=_("规则方案"), max_length=50, required=False, help_text=_("留空则沿用上级组织的方案")
    )
    active_from = forms.DateField(label=_("成立日期"), required=False, widget=DateInput())
    active_until = forms.DateField(label=_("撤销日期"), required=False, widget=DateInput())

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True

    def clean_profile_name(self) -> str:
        from .models import profile_name_error

        name = self.cleaned_data["profile_name"].strip()
        error = profile_name_error(name)
        if error:
            raise forms.ValidationError(error)
        return name


class OrganizationMoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("新的上级组织"), queryset=Organization.objects.none(), to_field_name="code"
    )

    def __init__(self, *args, parents, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents


class MemberForm(forms.Form):
    member_no = forms.CharField(label=_("编号"), max_length=32)
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(
        label=_("性别"), choices=[("", "—"), *Gender.choices], required=False
    )
    ethnicity = forms.CharField(label=_("民族"), max_length=20, required=False)
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DateInput())
    joined_party_on = forms.DateField(label=_("入党日期"), required=False, widget=DateInput())
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices, initial=Category.FULL)
    cadre_level = forms.ChoiceField(label=_("干部层级"), choices=CadreLevel.choices, required=False)
    mobile = forms.CharField(
        label=_("手机"), max_length=11, required=False, validators=[mobile_validator]
    )
    id_number = forms.CharField(
        label=_("身份证号"), max_length=18, required=False, validators=[id_number_validator]
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["member_no"].disabled = True

    def clean_id_number(self) -> str:
        return self.cleaned_data["id_number"].upper()

    def clean(self):
        # The same check Member.clean runs, here so that every field's error shows at once.
        data = super().clean()
        errors = member_dates_errors(
            birth_date=data.get("birth_date"),
            joined_party_on=data.get("joined_party_on"),
            id_number=data.get("id_number") or "",
            today=timezone.localdate(),
        )
        for field, message in errors.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data


class MemberCreateForm(MemberForm):
    organization = forms.ModelChoiceField(
        label=_("所在组织"), queryset=Organization.objects.none(), to_field_name="code"
    )
    start = forms.DateField(
        label=_("转入日期"),
        required=False,
        widget=DateInput(),
        help_text=_("留空表示在所有活动记录之前即已在册"),
    )
    field_order = ["organization", "start"]

    def __init__(self, *args, organizations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class TransferForm(ConfirmFarDateMixin, forms.Form):
    far_date_field = "on"

    to = forms.ModelChoiceField(
        label=_("转入组织"),
        queryset=Organization.objects.none(),
        to_field_name="code",
        required=False,
        help_text=_("留空表示转出本系统（如转到外单位）"),
    )
    on = forms.DateField(label=_("转接日期"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, targets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = targets


class RoleForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("任职组织"), queryset=Organization.objects.none(), to_field_name="code"
    )
    kind = forms.ChoiceField(label=_("职务"), choices=RoleKind.choices)
    start = forms.DateField(label=_("任职日期"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, organizations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class RoleEndForm(forms.Form):
    end = forms.DateField(label=_("免职日期"), widget=DateInput(), initial=timezone.localdate)


class ExemptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ExemptionKind.choices)
    start = forms.DateField(label=_("开始日期"), widget=DateInput())
    end = forms.DateField(label=_("结束日期"), widget=DateInput(), required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("结束日期必须晚于开始日期"))
        return data


class RosterDateForm(forms.Form):
    date = forms.DateField(
        label=_("在册日期"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("日期应为 YYYY-MM-DD 格式的有效日期（如 2025-03-01）")},
    )

    def day(self) -> dt.date:
        if self.is_valid() and self.cleaned_data.get("date"):
            return self.cleaned_data["date"]
        return timezone.localdate()

    def problem(self) -> str | None:
        """What was wrong with the typed date, saying which day is shown instead."""
        if not self.is_bound or self.is_valid():
            return None
        return str(
            _("在册日期「%(v)s」无法识别：%(e)s。下面显示的是今天（%(t)s）的名单。")
            % {
                "v": self.data.get("date", ""),
                "e": self.errors["date"][0].rstrip("。"),
                "t": timezone.localdate().isoformat(),
            }
        )


LEDGER_EXTENSIONS = (".xlsx", ".xls", ".ods")


class LedgerUploadForm(forms.Form):
    file = forms.FileField(label=_("台账文件（.xlsx、.xls 或 .ods）"))

    def clean_file(self):
        from django.conf import settings

        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(LEDGER_EXTENSIONS):
            raise forms.ValidationError(
                _(
                    "「%(name)s」不是工作簿：只能导入 .xlsx、.xls 或 .ods 文件，"
                    "请在 Excel/WPS 中另存为 .xlsx 后重新上传"
                )
                % {"name": upload.name}
            )
        if upload.size > settings.LEDGER_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件过大（%(size)d MB），上限为 %(limit)d MB；请按组织或年度拆分后分别导入")
                % {
                    "size": upload.size // (1024 * 1024),
                    "limit": settings.LEDGER_MAX_UPLOAD_BYTES // (1024 * 1024),
                }
            )
        return upload


def member_form_initial(member: Member) -> dict:
    return {f: getattr(member, f) for f in MemberForm.base_fields}
