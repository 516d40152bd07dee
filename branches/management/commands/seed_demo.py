from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from branches.demo import DEMO_PASSWORD, DEMO_USERNAMES, seed_demo
from branches.models import Organization, User


class Command(BaseCommand):
    help = "生成可复现的演示组织（机关党委、党总支、党支部、党小组、党员及登录账号）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--branches", type=int, default=12, help="党支部数量（默认 12）")
        parser.add_argument(
            "--members-per-branch", type=int, default=25, help="每个支部的党员数（默认 25）"
        )
        parser.add_argument("--years", type=int, default=1, help="覆盖的年数，截至今天（默认 1）")
        parser.add_argument(
            "--seed", type=int, default=2026, help="随机种子，同一种子生成同样的数据"
        )
        parser.add_argument("--scale", type=int, default=1, help="把支部数乘以该倍数")
        parser.add_argument("--if-empty", action="store_true", help="数据库已有组织时什么也不做")

    def handle(self, *args, **opts) -> None:
        for name in ("branches", "members_per_branch", "years", "scale"):
            if opts[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} 必须是正整数")
        if Organization.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("数据库中已有组织，跳过演示数据。")
                self._print_existing_logins()
                return
            raise CommandError(
                "数据库中已有组织；演示数据只能生成到空数据库（或加 --if-empty 跳过）。"
            )
        started = time.monotonic()
        result = seed_demo(
            branches=opts["branches"] * opts["scale"],
            members_per_branch=opts["members_per_branch"],
            years=opts["years"],
            seed=opts["seed"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成演示组织「{result.root.name}」：{len(result.branches)} 个党支部，"
                f"{result.members} 名党员，用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
        if result.logins:
            self.stdout.write("演示账号（用户名 / 密码）：")
            for who, username, password in result.logins:
                self.stdout.write(f"  {who:<24} {username} / {password}")

    def _print_existing_logins(self) -> None:
        present = [
            u
            for u in User.objects.filter(username__in=DEMO_USERNAMES)
            if u.check_password(DEMO_PASSWORD)
        ]
        if present:
            self.stdout.write("演示账号（用户名 / 密码）：")
            for user in sorted(present, key=lambda u: DEMO_USERNAMES.index(u.username)):
                self.stdout.write(f"  {user.first_name:<24} {user.username} / {DEMO_PASSWORD}")
