"""Members' own study: self-study hours, notes with review and near-duplicates, records, 学习档案."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from attendance import services
from attendance.models import FieldResearch, SelfStudy, StudyNote, TrainingRecord
from tests.conftest import refreshed
from tests.factories import make_session

TODAY = dt.datetime(2025, 6, 18, 4, 0, tzinfo=dt.UTC)  # a Wednesday in Shanghai
BODY = (
    "通过学习新修订的《中国共产党纪律处分条例》，我深刻认识到纪律建设是全面从严治党的治本之策。"
    "作为一名基层党员，要把六项纪律内化于心、外化于行，在日常工作中严守政治纪律和政治规矩，"
    "认真落实三会一课制度，按时参加组织生活，主动接受党员群众监督，做到知敬畏、存戒惧、守底线。"
    "结合本职工作谈几点体会：一是加强理论学习，二是改进工作作风，三是提升服务能力。"
)


@time_machine.travel(TODAY, tick=False)
def test_self_study_totals_per_week_and_year(cast):
    client = cast.client("member_a")
    for day, hours in (("2025-06-16", "1.5"), ("2025-06-17", "2"), ("2025-06-09", "3")):
        assert (
            client.post(
                reverse("attendance:self_study"),
                {"date": day, "hours": hours, "material": "读《习近平谈治国理政》"},
            ).status_code
            == 302
        )
    page = client.get(reverse("attendance:self_study"))
    assert page.context["total"] == 6.5
    weeks = [(w.label, w.hours) for w in page.context["weeks"]]
    assert weeks[:2] == [("2025年第25周", 3.5), ("2025年第24周", 3)]


@time_machine.travel(TODAY, tick=False)
def test_self_study_bad_input_is_explained_and_not_saved(cast):
    client = cast.client("member_a")
    form = client.post(
        reverse("attendance:self_study"), {"date": "2025-06-19", "hours": "2", "material": "x"}
    ).context["form"]
    assert "日期不能晚于今天" in form.errors["date"]
    form = client.post(
        reverse("attendance:self_study"), {"date": "2025-06-17", "hours": "0", "material": "x"}
    ).context["form"]
    assert "hours" in form.errors
    client.post(
        reverse("attendance:self_study"), {"date": "2025-06-17", "hours": "20", "material": "x"}
    )
    form = client.post(
        reverse("attendance:self_study"), {"date": "2025-06-17", "hours": "5", "material": "x"}
    ).context["form"]
    assert "一天合计不能超过 24 学时" in form.errors["hours"][0]
    assert SelfStudy.objects.count() == 1


def test_self_study_is_only_for_a_member(cast):
    assert cast.client("reviewer").get(reverse("attendance:self_study")).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_note_is_counted_reviewed_returned_and_revised(cast):
    client = cast.client("member_a")
    response = client.post(
        reverse("attendance:note_new"),
        {"kind": "心得体会", "title": "学习体会", "body": "学习党章，Party 2025。"},
    )
    note = StudyNote.objects.get()
    assert note.word_count == 4 + 2 and note.status == "待审阅"
    assert response.status_code == 302
    secretary = cast.client("secretary_a")
    inbox = secretary.get(reverse("attendance:review_inbox")).context["notes"]
    assert [n.pk for n in inbox] == [note.pk]
    review = reverse("attendance:note_review", kwargs={"pk": note.pk})
    assert (
        "退回时请写明修改意见"
        in secretary.post(review, {"decision": "return"}, follow=True).content.decode()
    )
    secretary.post(review, {"decision": "return", "comment": "请结合本职工作"})
    note.refresh_from_db()
    assert note.status == "已退回" and note.review_comment == "请结合本职工作"
    client.post(
        reverse("attendance:note_edit", kwargs={"pk": note.pk}),
        {"kind": "心得体会", "title": "学习体会（修改）", "body": BODY},
    )
    note.refresh_from_db()
    assert note.status == "待审阅" and note.word_count > 150
    secretary.post(review, {"decision": "approve"})
    note.refresh_from_db()
    assert note.status == "已通过"
    assert (
        cast.client("secretary_b").post(review, {"decision": "return", "comment": "x"}).status_code
        == 404
    )
    assert cast.client("secretary_b").get(note.get_absolute_url()).status_code == 404
    # A member cannot review their own note.
    assert client.post(review, {"decision": "approve"}).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_a_near_copy_of_another_members_note_is_flagged_to_the_secretary(cast):
    original = services.note_submit(
        member=cast.member_b_member, kind="心得体会", title="原文", body=BODY
    )
    client = cast.client("member_a")
    client.post(
        reverse("attendance:note_new"),
        {"kind": "心得体会", "title": "我的体会", "body": BODY.replace("几点", "三点")},
    )
    copy = StudyNote.objects.get(title="我的体会")
    assert copy.similar_to == original and copy.similarity > 0.9
    page = cast.client("secretary_a").get(copy.get_absolute_url()).content.decode()
    assert "与另一篇笔记高度相似" in page
    # Branch A's secretary may not read branch B's note: the title is not revealed.
    assert "原文" not in page
    assert "高度相似" in cast.client("reviewer").get(copy.get_absolute_url()).content.decode()
    assert "原文" in cast.client("reviewer").get(copy.get_absolute_url()).content.decode()
    # The author is not shown the warning.
    assert "高度相似" not in client.get(copy.get_absolute_url()).content.decode()
    fresh = services.note_submit(
        member=cast.member_a_member,
        kind="学习笔记",
        title="另一篇",
        body="今天学习了新修订的纪律处分条例，重点是六项纪律。",
    )
    assert fresh.similar_to is None


@time_machine.travel(TODAY, tick=False)
def test_empty_note_is_refused(cast):
    form = (
        cast.client("member_a")
        .post(reverse("attendance:note_new"), {"kind": "学习笔记", "title": "空", "body": "   "})
        .context["form"]
    )
    assert form.errors
    assert not StudyNote.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_member_records_training_and_the_secretary_confirms(cast):
    client = cast.client("member_a")
    url = reverse("attendance:record_new", kwargs={"member_no": "A002", "kind": "training"})
    form = client.post(
        url,
        {
            "course": "党务培训班",
            "organizer": "市委党校",
            "start_date": "2025-05-10",
            "end_date": "2025-05-09",
            "hours": "16",
        },
    ).context["form"]
    assert "结束日期不能早于开始日期" in form.errors["end_date"]
    client.post(
        url,
        {
            "course": "党务培训班",
            "organizer": "市委党校",
            "start_date": "2025-05-08",
            "end_date": "2025-05-10",
            "hours": "16",
        },
    )
    record = TrainingRecord.objects.get()
    assert record.status == "待确认" and record.days == 3
    assert (
        cast.client("secretary_b")
        .post(
            reverse("attendance:record_confirm", kwargs={"kind": "training", "pk": record.pk}),
            {"decision": "confirm"},
        )
        .status_code
        == 404
    )
    cast.client("secretary_a").post(
        reverse("attendance:record_confirm", kwargs={"kind": "training", "pk": record.pk}),
        {"decision": "confirm"},
    )
    record.refresh_from_db()
    assert record.status == "已确认" and record.confirmed_by == cast.secretary_a
    # A secretary's own entry for a member needs no confirmation.
    cast.client("secretary_a").post(
        reverse("attendance:record_new", kwargs={"member_no": "A002", "kind": "research"}),
        {"topic": "基层党建调研", "start_date": "2025-04-01", "end_date": "2025-04-20"},
    )
    assert FieldResearch.objects.get().status == "已确认"
    assert (
        cast.client("secretary_b")
        .get(reverse("attendance:record_new", kwargs={"member_no": "A002", "kind": "training"}))
        .status_code
        == 404
    )


@time_machine.travel(TODAY, tick=False)
def test_archive_shows_the_members_year(cast):
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    entries = [
        services.EntryInput(cast.secretary_a_member.pk, "出席"),
        services.EntryInput(cast.member_a_member.pk, "缺席"),
    ]
    services.attendance_record(
        session=session,
        entries=entries,
        version=0,
        by=cast.secretary_a,
        now=dt.datetime(2025, 3, 5, 13, tzinfo=dt.UTC),
    )
    training = make_session(
        refreshed(cast.branch_a),
        "党员教育培训",
        dt.date(2025, 4, 2),
        start="14:30",
        end="17:30",
        hours="3",
    )
    services.attendance_record(
        session=training,
        entries=[
            services.EntryInput(cast.secretary_a_member.pk, "出席"),
            services.EntryInput(cast.member_a_member.pk, "迟到"),
        ],
        version=0,
        by=None,
        now=dt.datetime(2025, 4, 2, 13, tzinfo=dt.UTC),
    )
    services.self_study_log(
        member=cast.member_a_member, date=dt.date(2025, 6, 16), hours=2, material="自学"
    )
    url = reverse("attendance:member_archive", kwargs={"member_no": "A002"})
    page = cast.client("member_a").get(url)
    assert page.context["counts"] == {"缺席": 1, "迟到": 1}
    assert page.context["study_total"] == 2
    assert page.context["training_hours"] == 3
    assert cast.client("reviewer").get(url).status_code == 200
    assert cast.client("secretary_b").get(url).status_code == 404
