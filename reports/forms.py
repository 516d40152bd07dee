from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SUMMARY_TEXT_MAX_CHARS = 20_000


class SummaryTextForm(forms.Form):
    text = forms.CharField(
        label=_("年度学习情况报告正文"),
        max_length=SUMMARY_TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=_(
            "初稿由系统根据本年度数据生成，请审阅修改。以“一、”“（一）”“1.”开头的行为各级标题。"
            "不超过 20000 字。"
        ),
        error_messages={
            "required": _("请填写年度学习情况自评，不能为空。"),
            "max_length": _("自评不能超过 %(limit_value)d 字（当前 %(show_value)d 字）。"),
        },
    )
    confirm = forms.BooleanField(
        label=_("确认定稿：正文已审阅，可以报送"),
        required=False,
        help_text=_("未确认定稿的报告带“草稿”水印，不能报送。再次修改后需重新确认。"),
    )


class AnnualRunForm(forms.Form):
    year = forms.IntegerField(
        label=_("年度"),
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": _("请填写年度"),
            "invalid": _("年度应为四位数字"),
            "min_value": _("年度不能早于 %(limit_value)s 年"),
            "max_value": _("年度不能晚于 %(limit_value)s 年"),
        },
    )
    send = forms.BooleanField(
        label=_("生成后通过电子邮件报送上级组织、宣传部门"), required=False, initial=True
    )
    reason = forms.CharField(
        label=_("生成原因"),
        max_length=200,
        required=False,
        help_text=_("更正后重新生成时填写，例如“更正学习次数”；将写入新版本及报送邮件。"),
    )
