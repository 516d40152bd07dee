from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from branches.ledger import LedgerRejected, import_ledger
from branches.models import User


class Command(BaseCommand):
    help = "导入学习台账工作簿（.xlsx、.xls 或 .ods）。任何一行有误则全部不导入。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as-user", default=None, help="以该用户的权限导入（默认：不受限的管理员）"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只预览将新增、更新和跳过的内容，不导入"
        )

    def handle(self, *args, file: Path, as_user: str | None, dry_run: bool = False, **opts) -> None:
        if not file.is_file():
            raise CommandError(f"找不到文件：{file}")
        limit = settings.LEDGER_MAX_UPLOAD_BYTES
        if file.stat().st_size > limit:
            raise CommandError(
                f"文件过大（{file.stat().st_size // (1024 * 1024)} MB），上限为 "
                f"{limit // (1024 * 1024)} MB（LEDGER_MAX_UPLOAD_BYTES）；请拆分后分别导入"
            )
        if as_user:
            user = User.objects.filter(username=as_user).first()
            if user is None:
                raise CommandError(f"没有用户 {as_user}")
        else:
            user = User(username="manage.py", is_superuser=True, is_active=True)
        try:
            with file.open("rb") as fh:
                result = import_ledger(fh, user=user, dry_run=dry_run)
        except LedgerRejected as exc:
            for line in exc.lines():
                self.stderr.write(line)
            raise CommandError(f"发现 {len(exc.errors)} 处错误，未导入任何数据。") from exc
        for warning in [*result.warnings, *result.skipped]:
            self.stderr.write(self.style.WARNING(warning))
        for sheet, counts in result.counts.items():
            summary = "，".join(f"{k} {v}" for k, v in counts.items())
            self.stdout.write(self.style.SUCCESS(f"{sheet}：{summary}"))
        if dry_run:
            self.stdout.write("预览完毕，未导入任何数据（去掉 --dry-run 即导入）。")
