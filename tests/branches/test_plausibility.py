"""Birth date, 入党日期 and ID number tell one story, on every path a member's data is typed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from branches import services
from branches.idcard import birth_date_in, check_digit, validate_id_number
from branches.models import Member

TODAY = dt.datetime(2026, 6, 15, 10, tzinfo=dt.UTC)

# Published worked example of GB 11643-1999 (the standard's appendix): 11010519491231002X.
STANDARD_EXAMPLE = "11010519491231002X"

bodies = st.builds(
    lambda area, day, seq: f"{area:06d}{day:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999),
    st.dates(dt.date(1920, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)


def test_the_standard_s_own_example_is_valid():
    assert check_digit(STANDARD_EXAMPLE[:17]) == "X"
    validate_id_number(STANDARD_EXAMPLE)
    validate_id_number(STANDARD_EXAMPLE.lower())


@given(bodies)
def test_the_check_character_makes_the_weighted_sum_one_modulo_eleven(body):
    # ISO 7064 MOD 11-2: Σ a_i·2^(18-i) over all 18 characters (X = 10) ≡ 1 (mod 11).
    full = body + check_digit(body)
    values = [10 if c == "X" else int(c) for c in full]
    assert sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1
    validate_id_number(full)
    assert birth_date_in(full) == dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))


@given(bodies, st.integers(0, 17), st.integers(1, 9))
def test_any_single_changed_digit_is_refused(body, position, delta):
    full = body + check_digit(body)
    if full[position] == "X":
        return
    changed = full[:position] + str((int(full[position]) + delta) % 10) + full[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(changed)


@given(bodies, st.integers(0, 15))
def test_two_swapped_neighbours_are_refused(body, position):
    full = body + check_digit(body)
    a, b = full[position], full[position + 1]
    if a == b:
        return
    swapped = full[:position] + b + a + full[position + 2 :]
    with pytest.raises(ValidationError):
        validate_id_number(swapped)


def _messages(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.message_dict


@time_machine.travel(TODAY, tick=False)
def test_a_wrong_check_character_names_the_expected_one(cast):
    member = cast.member_b_member
    errors = _messages(
        lambda: services.member_update(member=member, id_number="350102199002025670")
    )
    assert "校验位错误" in errors["id_number"][0] and "应为 4" in errors["id_number"][0]


@time_machine.travel(TODAY, tick=False)
def test_an_id_number_with_an_impossible_birth_date_is_refused(cast):
    body = "35010219900230123"  # 30 February
    errors = _messages(
        lambda: services.member_update(
            member=cast.member_b_member, id_number=body + check_digit(body)
        )
    )
    assert "不是有效的出生日期" in errors["id_number"][0]


@time_machine.travel(TODAY, tick=False)
def test_birth_date_must_equal_the_one_inside_the_id_number(cast):
    errors = _messages(
        lambda: services.member_update(
            member=cast.member_a_member,  # ID 350102199002025674: born 1990-02-02
            birth_date=dt.date(1990, 2, 3),
        )
    )
    assert errors["birth_date"] == [
        "出生日期 1990-02-03 与身份证号中的出生日期 1990-02-02 不一致，请核对"
    ]
    services.member_update(member=cast.member_a_member, birth_date=dt.date(1990, 2, 2))


@time_machine.travel(TODAY, tick=False)
def test_joining_before_the_eighteenth_birthday_is_refused_on_the_day_it_is_allowed(cast):
    member = cast.member_a_member  # born 1990-02-02 per the ID number
    errors = _messages(
        lambda: services.member_update(member=member, joined_party_on=dt.date(2008, 2, 1))
    )
    assert "未满 18 周岁" in errors["joined_party_on"][0]
    assert "2008-02-02" in errors["joined_party_on"][0]
    services.member_update(member=member, joined_party_on=dt.date(2008, 2, 2))


@time_machine.travel(TODAY, tick=False)
def test_dates_in_the_future_are_refused(cast):
    member = cast.member_b_member
    errors = _messages(
        lambda: services.member_update(
            member=member, birth_date=dt.date(2027, 1, 1), joined_party_on=dt.date(2026, 6, 16)
        )
    )
    assert "晚于今天" in errors["birth_date"][0]
    assert "晚于今天" in errors["joined_party_on"][0]


@time_machine.travel(TODAY, tick=False)
def test_the_member_form_shows_each_error_at_its_field(cast):
    client = cast.client("secretary_a")
    url = reverse("branches:member_edit", kwargs={"member_no": "A002"})
    response = client.post(
        url,
        {
            "member_no": "A002",
            "name": "甲党员",
            "category": "正式党员",
            "birth_date": "1995-05-05",
            "joined_party_on": "2010-01-01",
            "id_number": "350102199505051230",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "校验位错误" in form.errors["id_number"][0]
    assert "未满 18 周岁" in form.errors["joined_party_on"][0]
    assert Member.objects.get(member_no="A002").joined_party_on is None


@time_machine.travel(TODAY, tick=False)
def test_the_admin_site_refuses_the_same(cast):
    admin_class = site._registry[Member]
    form_class = admin_class.get_form(None, cast.member_a_member)
    member = cast.member_a_member
    data = {
        "member_no": member.member_no,
        "name": member.name,
        "category": member.category,
        "cadre_level": "",
        "id_number": member.id_number,
        "birth_date": "1990-02-02",
        "joined_party_on": "2001-07-01",
    }
    form = form_class(data, instance=member)
    assert not form.is_valid()
    assert "未满 18 周岁" in form.errors["joined_party_on"][0]


@time_machine.travel(TODAY, tick=False)
def test_a_transfer_date_more_than_a_year_away_asks_for_a_confirmation(cast):
    client = cast.client("secretary_a")
    url = reverse("branches:member_transfer", kwargs={"member_no": "A002"})
    response = client.post(url, {"to": "JG-01-02", "on": "2062-06-15"})
    assert response.status_code == 200
    assert (
        "日期 2062-06-15 距今天（2026-06-15）超过一年" in response.context["form"].errors["on"][0]
    )
    html = response.content.decode()
    assert 'type="checkbox" name="confirm_date"' in html
    assert html.index('name="on"') < html.index('name="confirm_date"')
    assert cast.member_a_member.memberships.get().end is None
    response = client.post(url, {"to": "JG-01-02", "on": "2026-07-01"})
    assert response.status_code == 302
    assert cast.member_a_member.memberships.get(end__isnull=True).organization == cast.branch_b
