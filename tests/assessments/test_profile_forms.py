"""Rule profiles are edited through a labelled field per parameter and read in Chinese
(issue 16's last bullet, issue 11's "profile pages print Python dicts")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments import params as catalog
from assessments.forms import RuleEditForm
from assessments.models import ProfileVersion, Rule, RuleProfile
from assessments.profiles_data import PROFILES
from assessments.services import profile_copy
from tests.assessments.test_pages import form_values, profile_form_data

RAW = re.compile(r"[{}\[\]']|\b(True|False|None)\b")


def _copy(cast, name: str = "市直机关") -> RuleProfile:
    return profile_copy(profile=RuleProfile.objects.get(name="默认"), name=name, by=cast.admin)


def test_every_parameter_of_every_shipped_profile_has_a_chinese_label(db):
    rules = list(Rule.objects.filter(profile__builtin=True))
    assert len({r.profile_id for r in rules}) == 7
    for rule in rules:
        for key in rule.params:
            assert (rule.kind, key) in catalog.KIND_SPECS or key in catalog.SPECS, (
                rule.rule_id,
                key,
            )
        for line in catalog.describe(rule.kind, rule.params):
            assert not RAW.search(line.text), (rule.rule_id, line)
            assert line.label != line.key, (rule.rule_id, line)


def test_the_profile_page_shows_parameters_in_chinese_not_python(cast):
    for profile in RuleProfile.objects.filter(builtin=True):
        url = reverse("assessments:profile_detail", kwargs={"pk": profile.pk})
        html = cast.client("admin").get(url).content.decode()
        cells = re.findall(r'<ul class="list-unstyled mb-0 rule-params">(.*?)</ul>', html, re.S)
        assert cells, profile.name
        for cell in cells:
            assert not RAW.search(cell.replace("&#x27;", "'")), (profile.name, cell)
    default = RuleProfile.objects.get(name="默认")
    html = (
        cast.client("admin")
        .get(reverse("assessments:profile_detail", kwargs={"pk": default.pk}))
        .content.decode()
    )
    assert "全年不少于：12 次" in html  # FJ-B1
    assert "平均参与率不低于：80%" in html  # FJ-B7
    assert "周期：每季度" in html and "计入的活动类型：支部党员大会" in html  # FJ-B2
    assert "执行对象：由各党小组分别执行" in html  # LC-B2
    assert "截止日期（每年）：3月31日前" in html  # FJ-P1


@pytest.mark.parametrize(
    ("profile", "rule_id"), [(p["name"], r["rule_id"]) for p in PROFILES for r in p["rules"]]
)
def test_an_unchanged_form_gives_back_exactly_the_rule_s_parameters(db, profile, rule_id):
    rule = Rule.objects.get(profile__name=profile, rule_id=rule_id)
    data = form_values([RuleEditForm(rule=rule, prefix="r")])
    form = RuleEditForm(data, rule=rule, prefix="r")
    assert form.is_valid(), (rule.rule_id, form.errors)
    assert form.cleaned_data["params"] == rule.params
    # Same JSON types: 12 stays an int, 0.8 a float.
    assert [type(v) for v in form.cleaned_data["params"].values()] == [
        type(v) for v in rule.params.values()
    ]


def test_the_edit_page_has_a_labelled_field_with_unit_and_bounds_per_parameter(cast):
    copy = _copy(cast)
    html = (
        cast.client("admin")
        .get(reverse("assessments:profile_edit", kwargs={"pk": copy.pk}))
        .content.decode()
    )
    assert "参数（JSON）" not in html and "<textarea" not in html.split("note")[0]
    fj_b7 = copy.rules.get(rule_id="FJ-B7")
    field = re.search(rf'<input[^>]*name="r{fj_b7.pk}-p__min"[^>]*>', html).group(0)
    assert 'type="number"' in field and 'value="80"' in field
    assert 'min="0"' in field and 'max="100"' in field
    label = re.search(rf'<label[^>]*for="id_r{fj_b7.pk}-p__min"[^>]*>([^<]*)</label>', html)
    assert label.group(1) == "平均参与率不低于"
    unit = html[html.index(field) :][: len(field) + 60]
    assert '<span class="input-group-text">%</span>' in unit
    lc_t1 = copy.rules.get(rule_id="LC-T1")
    assert f'name="r{lc_t1.pk}-p__tiers__0__min_hours"' in html
    assert f'name="r{lc_t1.pk}-p__tiers__1__min_hours"' in html
    assert "其他党员：不少于" in html


def _editing(cast):
    """A copy of 默认, the admin's client, its edit page and the page's unchanged data."""
    copy = _copy(cast)
    client = cast.client("admin")
    edit = reverse("assessments:profile_edit", kwargs={"pk": copy.pk})
    return copy, client, edit, profile_form_data(client.get(edit))


def test_saving_the_form_makes_a_new_version_with_typed_values(cast):
    copy, client, edit, data = _editing(cast)
    fj_b7, fj_m2 = copy.rules.get(rule_id="FJ-B7"), copy.rules.get(rule_id="FJ-M2")
    data[f"r{fj_b7.pk}-p__min"] = "85"
    data[f"r{fj_m2.pk}-p__min_hours"] = "2.5"
    data["note"] = "参与率提高到85%"
    assert client.post(edit, data).status_code == 302
    copy.refresh_from_db()
    assert copy.version == 2
    assert copy.rules.get(rule_id="FJ-B7").params == {"min": 0.85}
    assert copy.rules.get(rule_id="FJ-M2").params == {"min_hours": 2.5}
    snapshot = ProfileVersion.objects.get(profile=copy, number=2).snapshot
    assert "0.85" in str(snapshot)
    # Saving again with nothing changed makes no new version.
    assert client.post(edit, profile_form_data(client.get(edit))).status_code == 302
    copy.refresh_from_db()
    assert copy.version == 2


def test_out_of_range_values_are_named_at_the_field_and_nothing_is_saved(cast):
    copy, client, edit, data = _editing(cast)
    fj_b7, fj_p1 = copy.rules.get(rule_id="FJ-B7"), copy.rules.get(rule_id="FJ-P1")
    fj_b2 = copy.rules.get(rule_id="FJ-B2")
    data[f"r{fj_b7.pk}-p__min"] = "120"
    data[f"r{fj_p1.pk}-p__deadline"] = "02-30"
    data[f"r{fj_b2.pk}-p__types"] = []
    response = client.post(edit, data)
    assert response.status_code == 200
    summary = response.context["errors"]
    assert any(e.startswith("FJ-B7 平均参与率不低于：") and "100" in e for e in summary)
    assert "FJ-P1 截止日期（每年）：应为「月-日」格式，如 03-31" in summary
    assert "FJ-B2 计入的活动类型：至少选择一项" in summary
    forms = {f.rule.rule_id: f for f in response.context["rule_forms"]}
    assert forms["FJ-B7"].errors["p__min"]
    copy.refresh_from_db()
    assert copy.version == 1 and copy.rules.get(rule_id="FJ-B7").params == {"min": 0.8}


def test_a_period_offers_only_the_rule_s_own_choices(cast):
    copy = profile_copy(
        profile=RuleProfile.objects.get(name="历城区"), name="历城区副本", by=cast.admin
    )
    lc_b4 = copy.rules.get(rule_id="LC-B4")
    form = RuleEditForm(rule=lc_b4, prefix="r")
    assert [c[0] for c in form.fields["p__period"].choices] == ["quarter", "half_year"]
    data = {
        "r-enabled": "on",
        "r-p__types": ["党课"],
        "r-p__period": "half_year",
        "r-p__min_per_period": "1",
    }
    form = RuleEditForm(data, rule=lc_b4, prefix="r")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["params"]["period"] == "half_year"
    assert form.cleaned_data["params"]["period_choices"] == ["quarter", "half_year"]
    data["r-p__period"] = "month"
    assert not RuleEditForm(data, rule=lc_b4, prefix="r").is_valid()
