from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assessments.engine import EVALUATORS, assess
from assessments.models import Rule, RuleProfile
from assessments.profiles_data import PROFILES, RULES
from tests.conftest import refreshed
from tests.factories import make_member, make_org

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
RULES_MD = Path(__file__).resolve().parents[3] / "shared" / "RULES.md"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("「", "“").replace("」", "”")


def test_every_rule_id_of_rules_md_ships_in_a_profile():
    ids_in_doc = set(re.findall(r"^\| ([A-Z]{2}-[A-Z]\d) \|", RULES_MD.read_text(), flags=re.M))
    assert len(ids_in_doc) > 50
    shipped = {r["rule_id"] for p in PROFILES for r in p["rules"]}
    assert ids_in_doc == shipped == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_quote_is_verbatim_from_its_seed(rule_id):
    rule = RULES[rule_id]
    seed = _normalise((SEEDS / rule["source"]).read_text())
    for fragment in re.split(r"…+", rule["quote"]):
        fragment = _normalise(fragment)
        if fragment:
            assert fragment in seed, f"{rule_id}: 「{fragment}」 not in {rule['source']}"


def test_every_kind_has_an_evaluator():
    assert {r["kind"] for r in RULES.values()} <= set(EVALUATORS)


def test_a_fresh_database_has_every_profile(db):
    assert set(RuleProfile.objects.values_list("name", flat=True)) == {p["name"] for p in PROFILES}
    assert Rule.objects.filter(profile__name="默认").count() == 12
    assert RuleProfile.objects.get(name="福建省住建厅机关").rules.get(
        rule_id="FJ-M1"
    ).consequences == [
        "blocks_excellent",
        "blocks_advanced_member",
    ]


def test_queries_do_not_grow_with_branches_or_members(cast, django_assert_max_num_queries):
    from tests.assessments.test_definitions import held

    for i in range(2):
        branch = make_org(f"JG-01-9{i}", "党支部", refreshed(cast.general))
        for _ in range(3):
            make_member(branch, start=dt.date(2024, 1, 1))
        held(branch, dt.date(2025, 3, 3), {})
    with django_assert_max_num_queries(40) as small:
        assess(root=refreshed(cast.root), year=2025, today=dt.date(2026, 1, 10))
    for i in range(8):
        branch = make_org(f"JG-01-8{i}", "党支部", refreshed(cast.general))
        for _ in range(6):
            make_member(branch, start=dt.date(2024, 1, 1))
        held(branch, dt.date(2025, 3, 3), {})
        held(branch, dt.date(2025, 4, 3), {})
    with django_assert_max_num_queries(len(small.captured_queries)):
        assess(root=refreshed(cast.root), year=2025, today=dt.date(2026, 1, 10))


def test_assess_command_prints_json_and_a_table(cast, capsys):
    call_command("assess", "--year", "2025", "--org", "JG", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["year"] == 2025
    assert {o["code"] for o in doc["organizations"]} == {
        "JG",
        "JG-01",
        "JG-01-01",
        "JG-01-01-1",
        "JG-01-02",
    }
    assert {m["id"] for m in doc["members"]} == {"A001", "A002", "B001", "B002"}
    call_command("assess", "--year", "2025")
    out = capsys.readouterr().out
    assert "JG-01-02" in out and "QT-01" in out
    with pytest.raises(CommandError, match="没有编码为 NOPE 的组织"):
        call_command("assess", "--year", "2025", "--org", "NOPE")
    with pytest.raises(CommandError, match="超出范围"):
        call_command("assess", "--year", "1999")
