"""Resident ID numbers (居民身份证号码) as GB 11643-1999 defines them.

18 characters: a 6-digit address code, the birth date as YYYYMMDD, a 3-digit sequence
number (odd for men, even for women) and a check character computed by ISO 7064 MOD 11-2
over the first 17 digits ("X" stands for 10).
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
_FORMAT = re.compile(r"^\d{17}[\dXx]$")


def check_digit(body: str) -> str:
    """The check character of the first 17 digits of an ID number."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError("the body of an ID number is 17 digits")
    return CHECK_CHARACTERS[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def birth_date_in(value: str) -> dt.date | None:
    """The birth date written in an ID number, or None when it is not a real date."""
    try:
        return dt.datetime.strptime(value[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def validate_id_number(value: str) -> None:
    """Field validator: format, a real birth date not in the future, the check character."""
    if not _FORMAT.match(value):
        raise ValidationError(
            _("身份证号码应为 18 位，最后一位可以是数字或 X"), code="id_number_format"
        )
    birth = birth_date_in(value)
    if birth is None or birth.year < 1900:
        raise ValidationError(
            _("身份证号码第 7～14 位「%(d)s」不是有效的出生日期（应为 YYYYMMDD）")
            % {"d": value[6:14]},
            code="id_number_birth",
        )
    if birth > timezone.localdate():
        raise ValidationError(
            _("身份证号码中的出生日期 %(d)s 晚于今天") % {"d": birth.isoformat()},
            code="id_number_birth",
        )
    expected = check_digit(value[:17])
    if value[17].upper() != expected:
        raise ValidationError(
            _(
                "身份证号码校验位错误：按前 17 位计算，最后一位应为 %(c)s，填写的是 %(v)s，请核对号码"
            )
            % {"c": expected, "v": value[17]},
            code="id_number_check_digit",
        )
