from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from attendance.ledger_export import MAX_YEAR, MIN_YEAR, export_ledger, parse_year
from branches.models import Organization


class Command(BaseCommand):
    help = "导出一个组织（含下级）某一年的学习台账工作簿（.xlsx），格式与导入相同。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="组织编码")
        parser.add_argument("--year", required=True, help="年份，如 2025")
        parser.add_argument(
            "--out", type=Path, default=None, help="输出文件（默认：学习台账-编码-年份.xlsx）"
        )

    def handle(self, *args, org: str, year: str, out: Path | None, **opts) -> None:
        organization = Organization.objects.filter(code=org.strip()).first()
        if organization is None:
            raise CommandError(f"没有编码为「{org}」的组织")
        parsed = parse_year(year)
        if parsed is None:
            raise CommandError(f"年份「{year}」无效，应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的四位数字")
        out = out or Path(f"学习台账-{organization.code}-{parsed}.xlsx")
        try:
            out.write_bytes(export_ledger(organization=organization, year=parsed))
        except OSError as exc:
            raise CommandError(f"无法写入文件 {out}：{exc.strerror or exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出 {organization.name}（{organization.code}）{parsed} 年的学习台账：{out}"
            )
        )
