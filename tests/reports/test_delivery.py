"""Delivery of the annual summary (JL-R1 / ZY-R1): versions, e-mail through a real SMTP
server, exactly-once sending, the command, the beat schedule and the pages' access.

Most tests render a small stand-in PDF (`fake_pdf`) so they stay fast; the round trip
through the SMTP server renders the real one."""

from __future__ import annotations

import datetime as dt
import io
import re
import smtplib
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from assessments.engine import assess
from portal.celery import app as celery_app
from reports import selectors, services, tasks
from reports.models import (
    Delivery,
    DeliveryAddresses,
    DeliveryAttempt,
    DeliveryStatus,
    SummaryText,
    SummaryVersion,
)
from studyplans.models import Submission
from tests.conftest import refreshed
from tests.reports.smtp import Mailbox, smtp_server_fixture  # noqa: F401 (the smtp_server fixture)

YEAR = 2025
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# The summaries of 2025 go out in January 2026.
JANUARY = dt.datetime(2026, 1, 10, 10, 0, tzinfo=SHANGHAI)
JG_ORGS = ["JG", "JG-01", "JG-01-01", "JG-01-02"]  # the 党小组 reports through its branch


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def final_texts(cast):
    """Every organization's report text, confirmed by its secretary (a draft is never sent)."""
    for org in (
        cast.root,
        cast.general,
        cast.branch_a,
        cast.branch_b,
        cast.other_root,
        cast.branch_c,
    ):
        SummaryText.objects.create(
            organization=org,
            year=YEAR,
            text=f"一、基本情况\n{org.name}全年坚持集中学习。",
            confirmed_at=dt.datetime(2026, 1, 2, tzinfo=SHANGHAI),
        )


@pytest.fixture
def fake_pdf(monkeypatch, final_texts):
    """A tiny valid-looking PDF that changes when the secretary's text changes."""
    import reports.pdf

    def render(doc):
        text = "".join(b.text for b in doc.body)
        return f"%PDF-1.4\n% {doc.data.organization.code} {doc.data.year} {text}\n%%EOF\n".encode()

    monkeypatch.setattr(reports.pdf, "report_pdf_bytes", render)
    return render


@pytest.fixture
def addresses(cast):
    """The 机关党委's superior departments; everything below JG inherits them."""
    DeliveryAddresses.objects.create(
        organization=cast.root,
        organization_dept_email="zzb@superior.example",
        propaganda_dept_email="xcb@superior.example",
    )
    DeliveryAddresses.objects.create(
        organization=cast.other_root, organization_dept_email="zzb@qt.example"
    )


def header(message, name: str) -> str:
    # A long encoded header is folded onto a continuation line; the parser keeps its indent.
    return str(message[name]).strip()


def attachment(message):
    """(name, content) of the PDF; a roll-up also carries its workbook."""
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return part.get_filename(), part.get_content()


def ascii_names(mailbox: Mailbox) -> list[str]:
    """The ASCII fallback names of the PDFs (`filename=`, beside RFC 2231's `filename*=`), as
    they arrived on the wire."""
    raw = [e.original_content.decode("utf-8") for e in mailbox.envelopes]
    return [re.search(r'filename="([^"]+\.pdf)"', r).group(1) for r in raw]


def pdf_bytes(version: SummaryVersion) -> bytes:
    with version.pdf.open("rb") as fh:
        return fh.read()


# Sending


def test_summary_goes_through_a_real_smtp_server_with_its_pdf_attached(
    cast, addresses, final_texts, smtp_server: Mailbox
):
    # The real renderer (reports.pdf), once: the attachment is the version's PDF, byte for byte.
    version = services.summary_generate(organization=refreshed(cast.branch_a), year=YEAR)
    delivery = services.summary_send(version=version)

    assert len(smtp_server) == 1
    (message,) = smtp_server.messages
    # Inherited from JG, two levels up: branch A and its 党总支 have no addresses of their own.
    assert smtp_server.recipients == [["zzb@superior.example", "xcb@superior.example"]]
    assert message["To"] == "zzb@superior.example, xcb@superior.example"
    assert header(message, "Subject") == "甲支部关于2025年度学习情况的报告"
    assert "上一年度" not in header(message, "Subject")
    name, content = attachment(message)
    assert name == "甲支部2025年度学习情况报告.pdf"
    assert content.startswith(b"%PDF") and content == pdf_bytes(version)
    assert "甲支部2025年度学习情况报告" in message.get_body(("plain",)).get_content()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None
    assert message["Message-ID"] == delivery.message_id
    assert delivery.recipients == ["zzb@superior.example", "xcb@superior.example"]
    assert list(delivery.attempt_log.values_list("result", flat=True)) == ["sent"]
    submission = Submission.objects.get(organization=cast.branch_a)
    assert (submission.kind, submission.year, submission.version) == ("年度总结", YEAR, 1)
    assert submission.sent_at == delivery.sent_at


def test_a_rerun_on_another_day_finds_the_same_pdf_and_sends_nothing(
    cast, addresses, final_texts, smtp_server
):
    # The real renderer again: idempotency rests on the PDF of a finished year being the
    # same bytes whenever it is rendered (no "generated on" date, no random document id).
    for day in (2, 20):
        when = dt.datetime(2026, 1, day, 2, 0, tzinfo=SHANGHAI)
        with time_machine.travel(when, tick=False):
            services.annual_run(root=refreshed(cast.branch_b), year=YEAR, send=True)
    assert SummaryVersion.objects.get().number == 1
    assert len(smtp_server) == 1


def test_generating_and_sending_twice_makes_one_version_and_one_email(
    cast, addresses, fake_pdf, smtp_server
):
    first = services.summary_generate(organization=cast.branch_b, year=YEAR)
    again = services.summary_generate(organization=cast.branch_b, year=YEAR)
    assert again.pk == first.pk and SummaryVersion.objects.count() == 1

    one = services.summary_send(version=first)
    two = services.summary_send(version=again)
    assert one.pk == two.pk
    assert len(smtp_server) == 1
    two.refresh_from_db()
    assert two.attempts == 1 and Delivery.objects.count() == 1
    assert Submission.objects.count() == 1


def test_addresses_are_inherited_field_by_field_in_one_query(
    cast, addresses, django_assert_num_queries
):
    DeliveryAddresses.objects.create(
        organization=cast.branch_b, organization_dept_email="own@b.example"
    )
    with django_assert_num_queries(1):
        assert selectors.delivery_addresses(cast.branch_b) == [
            "own@b.example",
            "xcb@superior.example",
        ]
    assert selectors.delivery_addresses(cast.branch_c) == ["zzb@qt.example"]


def test_an_smtp_refusal_is_recorded_and_the_retry_after_recovery_sends_exactly_once(
    cast, addresses, fake_pdf, smtp_server
):
    version = services.summary_generate(organization=cast.branch_a, year=YEAR)
    smtp_server.refuse(1)
    with pytest.raises(smtplib.SMTPDataError):
        services.summary_send(version=version)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "550" in delivery.last_error
    assert len(smtp_server) == 0 and not Submission.objects.exists()
    message_id = delivery.message_id

    services.summary_send(version=version)  # the server is back
    services.summary_send(version=version)  # and a late duplicate retry does nothing
    delivery.refresh_from_db()
    assert len(smtp_server) == 1 and smtp_server.refused == 1
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert delivery.message_id == message_id == smtp_server.messages[0]["Message-ID"]
    assert list(delivery.attempt_log.values_list("result", flat=True)) == ["failed", "sent"]


def test_the_task_retries_on_smtp_errors_until_the_server_recovers(
    cast, addresses, fake_pdf, smtp_server, monkeypatch
):
    assert tasks.generate_and_send.acks_late and tasks.generate_and_send.max_retries == 5
    assert smtplib.SMTPException in tasks.generate_and_send.autoretry_for
    smtp_server.refuse(2)
    # Eager mode runs the retries at once (no countdown; a worker waits about 1, 2 ...
    # minutes), provided it does not propagate the Retry exception itself.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    tasks.generate_and_send.delay(cast.branch_a.pk, YEAR)
    delivery = Delivery.objects.get()
    assert len(smtp_server) == 1 and smtp_server.refused == 2
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3


def test_a_fresh_claim_is_left_to_its_sender_and_a_stale_one_is_taken_over(
    cast, addresses, fake_pdf, smtp_server
):
    version = services.summary_generate(organization=cast.branch_a, year=YEAR)
    # Another worker claimed this e-mail a moment ago and is still talking to the server.
    delivery = Delivery.objects.create(
        organization=cast.branch_a,
        year=YEAR,
        version=1,
        attempts=1,
        message_id="<claimed.JG-01-01@localhost>",
    )
    with pytest.raises(services.DeliveryBusy):
        services.summary_send(version=version)
    assert len(smtp_server) == 0
    # That worker died: once the lease has passed, the claim is taken over and the same
    # Message-ID is reused, so a copy it might have sent is recognisable as a duplicate.
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=delivery.claimed_at - dt.timedelta(hours=1)
    )
    services.summary_send(version=version)
    delivery.refresh_from_db()
    assert len(smtp_server) == 1
    assert smtp_server.messages[0]["Message-ID"] == "<claimed.JG-01-01@localhost>"
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert "中断" in delivery.attempt_log.first().error


def test_a_correction_makes_version_2_and_the_email_says_so(cast, addresses, fake_pdf, smtp_server):
    first = services.summary_generate(organization=cast.branch_a, year=YEAR)
    services.summary_send(version=first)
    services.summary_text_save(
        organization=cast.branch_a,
        year=YEAR,
        text="更正：全年集中学习14次。",
        by=cast.secretary_a,
        confirm=True,
    )
    second = services.summary_generate(
        organization=cast.branch_a, year=YEAR, reason="更正集中学习次数"
    )
    assert second.number == 2 and second.reason == "更正集中学习次数"
    services.summary_send(version=second)

    assert len(smtp_server) == 2
    message = smtp_server.messages[1]
    assert header(message, "Subject") == "【第2版（更正）】甲支部关于2025年度学习情况的报告"
    body = message.get_body(("plain",)).get_content()
    assert "本件为第2版（更正）" in body and "更正说明：更正集中学习次数" in body
    assert attachment(message) == ("甲支部2025年度学习情况报告（第2版更正）.pdf", pdf_bytes(second))
    # Threaded to the first message on the receiving side.
    first_id = smtp_server.messages[0]["Message-ID"]
    assert message["In-Reply-To"] == first_id and message["References"] == first_id
    assert list(
        Submission.objects.filter(organization=cast.branch_a).values_list("version", flat=True)
    ) == [1, 2]
    # Regenerating without a change is no correction: no version 3, nothing sent.
    assert services.summary_generate(organization=cast.branch_a, year=YEAR).number == 2


def test_without_any_address_the_delivery_is_recorded_as_failed(cast, fake_pdf, smtp_server):
    version = services.summary_generate(organization=cast.branch_c, year=YEAR)
    with pytest.raises(services.NoRecipients):
        services.summary_send(version=version)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "未设置报送邮箱" in delivery.last_error
    assert len(smtp_server) == 0


def test_jl_r1_reads_the_submissions_the_delivery_records(cast, addresses, fake_pdf, smtp_server):
    with time_machine.travel(JANUARY, tick=False):
        services.annual_run(root=refreshed(cast.general), year=YEAR, send=True)
    assert set(Submission.objects.values_list("organization__code", flat=True)) == {
        "JG-01",
        "JG-01-01",
        "JG-01-02",
    }
    # JL-R1 of 2026: the summary of 2025 sent by 31 January 2026 (the plan is not filed here).
    result = assess(root=refreshed(cast.root), year=2026, today=dt.date(2026, 2, 10))
    jl_r1 = {v.rule_id: v for v in result.org("JG-01-01").verdicts}["JL-R1"]
    assert jl_r1.value.startswith("总结2026-01-10报送")
    assert jl_r1.detail == "逾期：学习计划"
    root_verdict = {v.rule_id: v for v in result.org("JG").verdicts}["JL-R1"]
    assert root_verdict.value.startswith("总结未报送")


# Runs: the fan-out task, the beat schedule, the reminder, the command


def test_the_fanout_sends_every_organization_of_every_root_once(
    cast, addresses, fake_pdf, smtp_server
):
    # What beat does at 02:00 on 2 January: no arguments, so last year and every root.
    with time_machine.travel(dt.datetime(2026, 1, 2, 2, 0, tzinfo=SHANGHAI), tick=False):
        assert tasks.annual_fanout.delay().get() == 6
        tasks.annual_fanout.delay()  # beat fired twice, or the task was redelivered
    codes = sorted(name.split("-2025-")[0] for name in ascii_names(smtp_server))
    assert codes == sorted([*JG_ORGS, "QT", "QT-01"])
    assert Delivery.objects.filter(status="sent").count() == 6


def test_the_beat_schedule_is_in_the_database_and_editable(db):
    fanout = PeriodicTask.objects.get(task="reports.tasks.annual_fanout")
    cron = fanout.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year) == ("0", "2", "2", "1")
    assert str(cron.timezone) == "Asia/Shanghai" and fanout.enabled
    remind = PeriodicTask.objects.get(task="reports.tasks.remind_missing_texts")
    cron = remind.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year) == ("0", "9", "24", "1")
    assert str(cron.timezone) == "Asia/Shanghai"


def test_the_reminder_goes_once_to_committee_members_whose_text_is_missing(cast, smtp_server):
    cast.secretary_a.email = "sec_a@jg.example"
    cast.secretary_a.save(update_fields=["email"])
    # Branch B's secretary has no address: skipped. JG and JG-01 have no committee here.
    with time_machine.travel(dt.datetime(2026, 1, 24, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert tasks.remind_missing_texts.delay().get() == 1
        assert tasks.remind_missing_texts.delay().get() == 0  # same day: no second reminder
    (message,) = smtp_server.messages
    assert smtp_server.recipients == [["sec_a@jg.example"]]
    assert header(message, "Subject") == "提醒：请填写甲支部2025年度学习情况自评"
    body = message.get_body(("plain",)).get_content()
    assert "2026年1月31日" in body and "/orgs/JG-01-01/annual/text/?year=2025" in body
    # Once the text is written, nobody is reminded.
    services.summary_text_save(organization=cast.branch_a, year=YEAR, text="自评", by=None)
    assert [o.code for o in selectors.organizations_missing_text(year=YEAR)] == [
        "JG",
        "JG-01",
        "JG-01-02",
        "QT",
        "QT-01",
    ]


def test_the_command_writes_the_pdfs_and_sends_each_once(
    cast, addresses, fake_pdf, smtp_server, tmp_path
):
    out = tmp_path / "out"
    stdout = io.StringIO()
    call_command(
        "annual_reports",
        "--year",
        "2025",
        "--org",
        "JG",
        "--out",
        str(out),
        "--send",
        stdout=stdout,
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{c}-2025-v1.pdf" for c in JG_ORGS)
    assert (out / "JG-01-01-2025-v1.pdf").read_bytes().startswith(b"%PDF")
    text = stdout.getvalue()
    assert "JG-01-01 甲支部：已生成第1版并报送 → zzb@superior.example、xcb@superior.example" in text
    # Each organization both generated and sent: the tally counts it in both columns.
    assert "共 4 个组织：生成 4，报送 4，跳过 0，草稿未报送 0，失败 0。" in text
    assert len(smtp_server) == 4

    stdout = io.StringIO()
    call_command("annual_reports", "--year", "2025", "--org", "JG", "--send", stdout=stdout)
    assert "JG-01-01 甲支部：跳过：第1版此前已报送" in stdout.getvalue()
    assert len(smtp_server) == 4

    stdout = io.StringIO()
    call_command("annual_reports", "--year", "2025", "--org", "QT-01", stdout=stdout)
    assert "QT-01 丙支部：已生成第1版" in stdout.getvalue()


def test_the_command_reports_failures_and_refuses_bad_input(
    cast, fake_pdf, smtp_server, tmp_path, django_capture_on_commit_callbacks
):
    stdout = io.StringIO()
    # QT has no addresses: each organization fails, the batch goes on, the exit status says so.
    with pytest.raises(CommandError, match="2 个组织失败"):
        call_command("annual_reports", "--year", "2025", "--org", "QT", "--send", stdout=stdout)
    assert "QT-01 丙支部：失败：未设置报送邮箱" in stdout.getvalue()
    for args, message in [
        (["--year", "1999"], "超出范围"),
        (["--year", "2025", "--org", "NOPE"], "没有编码为 NOPE 的组织"),
        (["--year", "2025", "--out", __file__], "不是目录"),
        (["--year", "2025", "--async", "--out", str(tmp_path)], "--out 不能与 --async 同用"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("annual_reports", *args, stdout=io.StringIO())
    assert not Path(tmp_path / "JG-2025-v1.pdf").exists()
    DeliveryAddresses.objects.create(organization=cast.other_root, propaganda_dept_email="x@qt.cn")
    stdout = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "annual_reports", "--year", "2025", "--org", "QT", "--send", "--async", stdout=stdout
        )
    assert "QT 其他党委：已将 2 个组织交给 Celery 处理" in stdout.getvalue()
    assert len(smtp_server) == 2  # eager here; a worker in production


# Pages


def test_a_reviewer_starts_a_run_for_his_subtree_and_watches_it(
    cast, addresses, fake_pdf, smtp_server, django_capture_on_commit_callbacks
):
    client = cast.client("reviewer")
    url = reverse("reports:generate", args=["JG"])
    page = client.get(url, {"year": YEAR})
    assert page.status_code == 200
    assert [r.organization.code for r in page.context["rows"]] == JG_ORGS

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}?year={YEAR}", {"year": YEAR, "send": "on", "reason": ""})
    assert response.status_code == 302
    run_id = response.url.split("run=")[1]
    assert len(smtp_server) == 4

    progress = client.get(reverse("reports:progress", args=["JG"]), {"run": run_id})
    html = progress.content.decode()
    assert "已完成 4 / 4 个组织，失败 0 个。" in html
    assert 'hx-trigger="every 2s"' not in html  # finished: the polling stops
    version = SummaryVersion.objects.get(organization=cast.branch_a)
    link = reverse("reports:version_pdf", args=[version.pk])
    assert link in html
    pdf = client.get(link)
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content) == pdf_bytes(version)
    # The page lists the delivery it made.
    page = client.get(url, {"year": YEAR})
    assert "已发送" in page.content.decode()


def test_the_progress_polls_while_the_run_is_under_way(cast, addresses, fake_pdf):
    run_id = services.run_start(root=cast.root, year=YEAR, send=True)
    services.run_mark(run_id=run_id, org_id=cast.branch_a.pk, state="sent")
    services.run_mark(run_id=run_id, org_id=cast.branch_b.pk, state="retrying", error="550 拒收")
    client = cast.client("reviewer")
    page = client.get(reverse("reports:generate", args=["JG"]), {"year": YEAR, "run": run_id})
    html = page.content.decode()
    assert "已完成 1 / 4 个组织，失败 0 个。" in html
    assert 'hx-trigger="every 2s"' in html
    assert f"{reverse('reports:progress', args=['JG'])}?run={run_id}" in html
    assert "乙支部：发送失败，稍后自动重试（550 拒收）" in html
    # A run belongs to its organization's page: another root's page does not show it.
    other = cast.client("admin").get(reverse("reports:progress", args=["QT"]), {"run": run_id})
    assert other.status_code == 404


def test_the_reviewer_page_costs_a_fixed_number_of_queries(
    cast, addresses, fake_pdf, django_assert_max_num_queries
):
    services.annual_run(root=cast.root, year=YEAR, send=False)
    client = cast.client("reviewer")
    url = reverse("reports:generate", args=["JG"])
    client.get(url)  # warm the session and the scope
    with django_assert_max_num_queries(14):
        assert client.get(url, {"year": YEAR}).status_code == 200


# Who may open what (tests/test_routes.py reads ROUTES). Reviewers and admins run the
# batch; whoever may see an organization downloads its versions; its committee writes the
# text. Everyone else: 404, so that a code outside one's subtree reveals nothing.
ACCESS = {
    "reports:generate": {"reviewer": 200, "admin": 200, "other_reviewer": 404,
                         "secretary_a": 404, "secretary_b": 404, "member_a": 404},
    "reports:progress": {"reviewer": 200, "admin": 200, "other_reviewer": 404,
                         "secretary_a": 404, "secretary_b": 404, "member_a": 404},
    "reports:summary_text": {"secretary_a": 200, "admin": 200, "secretary_b": 404,
                             "member_a": 404, "reviewer": 404, "other_reviewer": 404},
    "reports:version_pdf": {"secretary_a": 200, "reviewer": 200, "admin": 200,
                            "secretary_b": 404, "member_a": 404, "other_reviewer": 404},
    "reports:delivery_panel": {"secretary_a": 200, "reviewer": 200, "admin": 200,
                               "secretary_b": 404, "member_a": 404, "other_reviewer": 404},
}  # fmt: skip
ROUTES = list(ACCESS)


@pytest.mark.parametrize("name", ROUTES)
def test_access_matrix(cast, fake_pdf, name):
    version = services.summary_generate(organization=cast.branch_a, year=YEAR)
    run_id = services.run_start(root=cast.branch_a, year=YEAR, send=False)
    arg = version.pk if name == "reports:version_pdf" else "JG-01-01"
    url = reverse(name, args=[arg]) + (f"?run={run_id}" if name == "reports:progress" else "")
    for who, status in ACCESS[name].items():
        assert cast.client(who).get(url).status_code == status, who
    anonymous = cast.client(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("reviewer", "JG", 302),
        ("admin", "QT", 302),
        ("other_reviewer", "JG", 404),
        ("secretary_a", "JG-01-01", 404),  # a secretary writes the text; a reviewer runs
        ("reviewer", "JG-01-01-1", 404),  # a 党小组 has no summary of its own
    ],
)
def test_who_may_start_annual_runs(cast, who, code, status):
    response = cast.client(who).post(reverse("reports:generate", args=[code]), {"year": YEAR})
    assert response.status_code == status


def test_the_secretary_writes_the_text_and_others_cannot(cast, fake_pdf):
    url = reverse("reports:summary_text", args=["JG-01-01"]) + f"?year={YEAR}"
    SummaryText.objects.filter(organization=cast.branch_a).delete()
    assert cast.client("secretary_b").get(url).status_code == 404
    assert cast.client("secretary_b").post(url, {"text": "越权"}).status_code == 404
    assert cast.client("member_a").get(url).status_code == 404
    assert cast.client("other_reviewer").get(url).status_code == 404

    client = cast.client("secretary_a")
    assert client.get(url).status_code == 200
    empty = client.post(url, {"text": "   "})
    assert "请填写年度学习情况自评，不能为空。" in empty.content.decode()
    too_long = client.post(url, {"text": "学" * 20_001})
    assert "自评不能超过 20000 字（当前 20001 字）。" in too_long.content.decode()
    assert not SummaryText.objects.filter(organization=cast.branch_a).exists()

    response = client.post(url, {"text": "学" * 20_000, "confirm": "on"})
    assert response.status_code == 302
    saved = SummaryText.objects.get(organization=cast.branch_a, year=YEAR)
    assert len(saved.text) == 20_000 and saved.updated_by == cast.secretary_a
    # After a summary exists, saving says that a corrected version is needed.
    services.summary_generate(organization=cast.branch_a, year=YEAR)
    followed = client.post(url, {"text": "改过的自评"}, follow=True)
    assert "第2版（更正后重新生成）" in followed.content.decode()


def test_the_delivery_panel_lists_whom_when_message_id_and_result(
    cast, addresses, fake_pdf, smtp_server
):
    version = services.summary_generate(organization=cast.branch_a, year=YEAR)
    smtp_server.refuse(1)
    with pytest.raises(smtplib.SMTPDataError):
        services.summary_send(version=version)
    services.summary_send(version=version)
    delivery = Delivery.objects.get()
    html = render_to_string(
        "reports/delivery_panel.html",
        {"org": cast.branch_a, "deliveries": selectors.deliveries_for(organization=cast.branch_a)},
    )
    assert "学习情况总结 第1版" in html
    assert "zzb@superior.example、xcb@superior.example" in html
    assert delivery.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "已发送" in html and "共尝试 2 次" in html
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_the_email_reads_well_on_the_receiving_side(cast, addresses, fake_pdf, smtp_server):
    cast.secretary_a.email = "jia.shuji@branch.example"
    cast.secretary_a.save(update_fields=["email"])
    services.summary_send(version=services.summary_generate(organization=cast.branch_a, year=YEAR))
    (message,) = smtp_server.messages
    # From: the portal's address under the secretary's name; answers go to the secretary.
    assert message["From"].addresses[0].display_name == "甲书记（甲支部）"
    assert message["Reply-To"] == "jia.shuji@branch.example"
    # The attachment named in Chinese (RFC 2231) with an ASCII fallback on the wire.
    assert attachment(message)[0] == "甲支部2025年度学习情况报告.pdf"
    raw = smtp_server.envelopes[0].original_content.decode("utf-8")
    assert "filename*=utf-8''%E7%94%B2%E6%94%AF%E9%83%A82025" in raw
    assert ascii_names(smtp_server) == ["JG-01-01-2025-v1.pdf"]
    # No plan filed for 2026: the body does not claim one is attached.
    body = message.get_body(("plain",)).get_content()
    assert "学习计划（已备案" not in body and "1. 甲支部2025年度学习情况报告.pdf" in body
    assert "In-Reply-To" not in message


def test_a_rollup_sends_its_workbook_and_a_filed_plan_is_named(
    cast, addresses, fake_pdf, smtp_server
):
    from studyplans.models import AnnualPlan

    AnnualPlan.objects.create(organization=cast.general, year=YEAR + 1, status="已备案")
    services.summary_send(version=services.summary_generate(organization=cast.general, year=YEAR))
    (message,) = smtp_server.messages
    names = [p.get_filename() for p in message.iter_attachments()]
    assert names == [
        "第一党总支2025年度学习情况报告.pdf",
        "第一党总支2025年度学习情况报告（明细）.xlsx",
    ]
    body = message.get_body(("plain",)).get_content()
    assert "附下一年度学习计划（已备案，见报告附件）" in body and "Excel 工作簿" in body
    # Without a 书记 of its own the 党总支's mail carries its name and no Reply-To.
    assert message["From"].addresses[0].display_name == "第一党总支"
    assert message["Reply-To"] is None


def test_the_command_says_in_chinese_why_without_a_traceback(cast, fake_pdf, smtp_server, caplog):
    stdout = io.StringIO()
    with pytest.raises(CommandError, match="2 个组织失败"):
        call_command("annual_reports", "--year", str(YEAR), "--org", "QT", "--send", stdout=stdout)
    assert "QT-01 丙支部：失败：未设置报送邮箱" in stdout.getvalue()
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


def test_a_draft_is_not_sent_and_the_command_says_so(cast, addresses, fake_pdf, smtp_server):
    SummaryText.objects.filter(organization=cast.branch_a).update(confirmed_at=None)
    stdout = io.StringIO()
    call_command(
        "annual_reports", "--year", str(YEAR), "--org", "JG-01-01", "--send", stdout=stdout
    )
    out = stdout.getvalue()
    assert (
        "JG-01-01 甲支部：未生成：甲支部2025年度学习情况报告是草稿" in out
        and "书记尚未确认定稿" in out
    )
    assert "共 1 个组织：生成 0，报送 0，跳过 0，草稿未报送 1，失败 0。" in out
    assert len(smtp_server) == 0
