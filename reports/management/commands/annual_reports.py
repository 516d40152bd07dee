"""annual_reports --year YYYY [--org CODE] [--out DIR] [--send] [--async]

Renders (and with --send e-mails) the annual summaries of an organization and its subtree,
through the same idempotent services as the Celery tasks: running it twice makes no new
version of an unchanged summary and sends no e-mail twice.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization
from reports import selectors, services, tasks


class Command(BaseCommand):
    help = (
        "生成（并报送）年度学习情况总结：annual_reports --year YYYY [--org CODE] "
        "[--out DIR] [--send] [--async]"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help=_("总结的年度"))
        parser.add_argument("--org", help=_("组织编码：该组织及其下级（默认：所有根组织）"))
        parser.add_argument("--out", help=_("把 PDF 写入此目录，文件名为 编码-年度-v版本.pdf"))
        parser.add_argument(
            "--send", action="store_true", help=_("通过电子邮件报送上级组织、宣传部门")
        )
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help=_("不在本进程执行，交给 Celery 工作进程（每个组织一个任务）"),
        )
        parser.add_argument("--reason", default="", help=_("生成原因，例如更正说明"))

    def handle(
        self,
        *args,
        year: int,
        org: str | None,
        out: str | None,
        send: bool,
        run_async: bool,
        reason: str,
        **options,
    ) -> None:
        this_year = timezone.localdate().year
        if not 2000 <= year <= this_year:
            raise CommandError(
                _("年度 %(year)s 超出范围（2000–%(max)s）") % {"year": year, "max": this_year}
            )
        if len(reason) > 200:
            raise CommandError(_("生成原因不能超过 200 字"))
        if org:
            roots = list(Organization.objects.filter(code=org))
            if not roots:
                raise CommandError(_("没有编码为 %(code)s 的组织") % {"code": org})
        else:
            roots = list(Organization.objects.get_root_nodes())
        out_dir = self._out_dir(out) if out else None
        if run_async:
            if out_dir is not None:
                raise CommandError(_("--out 不能与 --async 同用：PDF 由 Celery 工作进程生成"))
            self._enqueue(roots, year=year, send=send, reason=reason)
            return

        counts: Counter[str] = Counter()

        def report(outcome: services.RunOutcome) -> None:
            counts["organizations"] += 1
            counts[outcome.status] += 1
            # "已生成第2版并报送" is one organization both generated and sent.
            if outcome.status == "sent" and outcome.new_version:
                counts["generated"] += 1
            self.stdout.write(self._line(outcome, send=send))
            if out_dir is not None and outcome.version is not None:
                version = outcome.version
                target = out_dir / services.pdf_filename(
                    outcome.organization, version.year, version.number
                )
                with version.pdf.open("rb") as fh:
                    target.write_bytes(fh.read())

        for root in roots:
            services.annual_run(root=root, year=year, send=send, reason=reason, on_outcome=report)
        total = counts["organizations"]
        self.stdout.write(
            _(
                "共 %(total)s 个组织：生成 %(generated)s，报送 %(sent)s，跳过 %(skipped)s，"
                "草稿未报送 %(draft)s，失败 %(failed)s。"
            )
            % {
                "total": total,
                **{k: counts[k] for k in ("generated", "sent", "skipped", "draft", "failed")},
            }
        )
        if out_dir is not None:
            self.stdout.write(_("PDF 已写入 %(dir)s") % {"dir": out_dir})
        if counts["failed"]:
            raise CommandError(_("%(n)s 个组织失败，见上文") % {"n": counts["failed"]})

    def _out_dir(self, out: str) -> Path:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise CommandError(_("%(path)s 不是目录") % {"path": out})
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(
                _("无法创建目录 %(path)s：%(err)s") % {"path": out, "err": exc}
            ) from exc
        return path

    def _enqueue(self, roots: list[Organization], *, year: int, send: bool, reason: str) -> None:
        for root in roots:
            n = len(selectors.summary_organization_ids(year=year, root_id=root.pk))
            transaction.on_commit(
                partial(
                    tasks.annual_fanout.delay, year=year, root_id=root.pk, send=send, reason=reason
                )
            )
            self.stdout.write(
                _("%(code)s %(name)s：已将 %(n)s 个组织交给 Celery 处理")
                % {"code": root.code, "name": root.name, "n": n}
            )

    @staticmethod
    def _line(outcome: services.RunOutcome, *, send: bool) -> str:
        org = outcome.organization
        head = f"{org.code} {org.name}："
        n = outcome.version.number if outcome.version else None
        if outcome.status == "failed":
            return head + _("失败：%(error)s") % {"error": outcome.error}
        if outcome.status == "draft":
            return head + _("未生成：%(error)s") % {"error": outcome.error}
        if outcome.status == "sent":
            recipients = "、".join(outcome.delivery.recipients) if outcome.delivery else ""
            if outcome.new_version:
                return head + _("已生成第%(n)s版并报送 → %(to)s") % {"n": n, "to": recipients}
            return head + _("已报送第%(n)s版 → %(to)s") % {"n": n, "to": recipients}
        if outcome.status == "generated":
            return head + _("已生成第%(n)s版") % {"n": n}
        if send:
            return head + _("跳过：第%(n)s版此前已报送") % {"n": n}
        return head + _("跳过：内容未变化，沿用第%(n)s版") % {"n": n}
