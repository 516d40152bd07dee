from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessments.engine import as_json, assess
from assessments.presenters import OUTCOME_LABELS
from branches.models import Organization


class Command(BaseCommand):
    help = "按规则方案考评组织和党员：assess --year YYYY [--org CODE] [--json]"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--org", help="组织编码（默认：所有根组织）")
        parser.add_argument("--json", action="store_true", help="输出 LEDGER.md 规定的 JSON 文档")

    def handle(self, *args, year: int, org: str | None, json: bool, **opts) -> None:
        if not 2000 <= year <= timezone.localdate().year + 1:
            raise CommandError(f"年份 {year} 超出范围")
        if org:
            roots = list(Organization.objects.filter(code=org))
            if not roots:
                raise CommandError(f"没有编码为 {org} 的组织")
        else:
            roots = list(Organization.objects.get_root_nodes())
        documents = [as_json(assess(root=root, year=year)) for root in roots]
        merged = {
            "year": year,
            "organizations": [o for d in documents for o in d["organizations"]],
            "members": [m for d in documents for m in d["members"]],
        }
        if json:
            self.stdout.write(_dumps(merged))
            return
        self._table(merged)

    def _table(self, doc: dict) -> None:
        self.stdout.write(f"{doc['year']} 年考评")
        self.stdout.write(
            f"{'编码':<14}{'方案':<10}{'学习次数':>6}{'平均参与率':>10}  五好  未达标的规则"
        )
        for o in doc["organizations"]:
            rate = "—" if o["avg_participation"] is None else f"{o['avg_participation']:.1%}"
            failed = [rid for rid, out in o["rules"].items() if out["outcome"] == "not_met"]
            self.stdout.write(
                f"{o['code']:<14}{o['profile']:<10}{o['study_sessions']:>8}{rate:>12}  {'是' if o['five_good'] else '否'}   {' '.join(failed)}"
            )
        blocked = [m for m in doc["members"] if m["excellent_eligible"] is False]
        unknown = sum(1 for m in doc["members"] if m["excellent_eligible"] is None)
        self.stdout.write(
            f"\n党员 {len(doc['members'])} 人，不得评为优秀 {len(blocked)} 人，"
            f"无法评定（未被列入任何已举行集体学习的应到名单）{unknown} 人："
        )
        for m in blocked:
            reasons = [rid for rid, out in m["rules"].items() if out["outcome"] == "not_met"]
            self.stdout.write(
                f"  {m['id']} {m['name']}（{m['organization']}）无故缺席 {m['unexcused_absences']} 次 {OUTCOME_LABELS['not_met']}：{' '.join(reasons)}"
            )


def _dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)
