"""The rule profiles shipped with the portal: every requirement of ../shared/RULES.md section 3.

This is data: a rule is an id, a kind (which evaluator reads it), the organizations or
members it applies to, its parameters (thresholds, periods, session types), its
consequences and the clause it quotes. A migration loads it; administrators copy a
profile to change thresholds. Quotes are verbatim from the seed documents ("…" marks
an elision); a test checks every fragment against the seeds.
"""

from __future__ import annotations

from typing import Any

TOP = ["党委", "党组", "机关党委"]
BRANCH = ["党支部"]
GROUP = ["党小组"]
ORGS = [*TOP, "党总支", "党支部"]
COMMITTEE = ["书记", "副书记", "组织委员", "宣传委员", "纪检委员", "委员"]
CENTRAL = ["组长", "学习秘书", "中心组成员"]
LEADER = {"roles": ["书记", "副书记"], "cadre_levels": ["处级", "县处级", "班子成员"]}
ALL_MEMBERS: dict[str, Any] = {}

STUDY_TYPES_DEFAULT = [
    "支部党员大会",
    "党小组会",
    "党课",
    "集中学习",
    "中心组学习",
    "专题讲座",
    "党员教育培训",
    "主题党日",
    "组织生活会",
    "读书会",
]
# RULES.md section 2: the options a profile may switch.
DEFAULT_OPTIONS = {
    "study_types": STUDY_TYPES_DEFAULT,  # 支委会 is for committee members only
    "exclude_excused": False,  # 请假 stays in the denominator
    "pooled_average": False,  # mean of session rates, not Σattended/Σexpected
}

BLOCKS_BRANCH = ["blocks_five_good", "blocks_advanced_branch"]
BLOCKS_MEMBER = ["blocks_excellent", "blocks_advanced_member"]

SEED_000 = "000_e8625581c2ea9a9f.txt"
SEED_001 = "001_825c734dc112acdf.txt"
SEED_002 = "002_000b43416088095f.txt"
SEED_004 = "004_82712c4901ba097d.txt"


def rule(
    rule_id, title, kind, *, applies_to, params=None, consequences=None, quote, source, scope="org"
):
    return {
        "rule_id": rule_id,
        "title": title,
        "kind": kind,
        "scope": scope,
        "applies_to": applies_to,
        "params": params or {},
        "consequences": consequences or ["not_met"],
        "quote": quote,
        "source": source,
    }


def org_types(*types: str) -> dict:
    return {"org_types": list(types)}


RULES: dict[str, dict] = {}


def add(r: dict) -> None:
    RULES[r["rule_id"]] = r


# 000 part 1 — 福建省住建厅机关《关于推进学习型党组织建设的贯彻意见》
add(
    rule(
        "FJ-B1",
        "党支部集体学习每年不少于12次",
        "session_count",
        applies_to=org_types(*BRANCH),
        params={"min": 12},
        quote="党支部集体学习每年不少于12次",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B2",
        "每季度召开1次支部党员大会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["支部党员大会"], "period": "quarter", "min_per_period": 1},
        quote="一般每季度要召开1次支部党员大会和支部委员会议",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B3",
        "每季度召开1次支委会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["支委会"], "period": "quarter", "min_per_period": 1},
        quote="一般每季度要召开1次支部党员大会和支部委员会议",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B4",
        "设立党小组的，每月召开1至2次党小组会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["党小组会"], "period": "month", "min_per_period": 1, "target": "groups"},
        quote="设立党小组的，一般每月召开1至2次党小组会",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B5",
        "每季度安排1次党课",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["党课"], "period": "quarter", "min_per_period": 1},
        quote="党支部一般每季度要安排1次党课",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B6",
        "支部集体学习每年少于15次的，五好党支部不达标、不得评先进党支部",
        "session_count",
        applies_to=org_types(*BRANCH),
        params={"min": 15},
        consequences=BLOCKS_BRANCH,
        quote="支部组织集体学习活动每年少于15次的…“五好党支部”年度达标考评不合格，不得参加先进党支部评选",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-B7",
        "党员平均参与率不低于80%",
        "avg_participation",
        applies_to=org_types(*BRANCH),
        params={"min": 0.8},
        consequences=BLOCKS_BRANCH,
        quote="党员…平均参与率少于80%的",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-M1",
        "无故缺席集体学习5次以上的，不得评为优秀、不得评先进党员",
        "unexcused_absences",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={"max": 4},
        consequences=BLOCKS_MEMBER,
        quote="党员干部职工每年无故缺席集体学习活动5次以上，当年度考核不得评为优秀等次，不得参加先进党员评选",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-M2",
        "每周自学不少于3小时，并做好学习笔记",
        "self_study_weekly",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={"min_hours": 3},
        quote="党员个人每周自学时间不少于3小时，并做好学习笔记",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-M3",
        "党组成员每年上1次党课、撰写心得体会或调研报告不少于1篇",
        "leader_output",
        scope="member",
        applies_to={"roles": CENTRAL, "role_org_types": ["党组", "党委"]},
        params={
            "talk_kinds": ["党课"],
            "min_talks": 1,
            "note_kinds": ["心得体会", "调研报告"],
            "min_notes": 1,
        },
        quote="厅党组成员每年要上1次党课，撰写心得体会、调研报告不少于1篇",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-M4",
        "主要负责同志每年深入基层调研2个月以上、撰写调研报告不少于1篇",
        "field_research",
        scope="member",
        applies_to={"roles": ["书记", "组长"], "role_org_types": TOP},
        params={"min_days": 60, "min_reports": 1},
        quote="每年安排2个月以上时间深入基层开展调研，撰写调研报告不少于1篇",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-P1",
        "每年第一季度制定学习计划并列出推荐书目",
        "plan_filed",
        applies_to=org_types(*ORGS),
        params={"deadline": "03-31", "needs_books": True},
        quote="每年第一季度…制定…学习计划，列出党员年度学习的推荐书目",
        source=SEED_000,
    )
)
add(
    rule(
        "FJ-C1",
        "每月举行1次党组中心组学习",
        "cadence",
        applies_to=org_types(*TOP),
        params={"types": ["中心组学习"], "period": "month", "min_per_period": 1},
        quote="坚持每月举行1次厅党组中心组学习",
        source=SEED_000,
    )
)

# 001 — 历城区《扎实开展创建学习型党组织活动的意见》
add(
    rule(
        "LC-C1",
        "中心组每月集中学习一次、每次半天，全年不少于12天",
        "cadence",
        applies_to=org_types(*TOP),
        params={
            "types": ["中心组学习"],
            "period": "month",
            "min_per_period": 1,
            "min_total_hours": 96,
            "hours_per_day": 8,
        },
        quote="集中学习每月安排一次，每次半天时间，年度学习讨论时间不少于12天",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-C2",
        "中心组成员每年撰写3篇以上学习心得或理论文章",
        "notes",
        scope="member",
        applies_to={"roles": CENTRAL},
        params={"kinds": ["心得体会", "理论文章"], "min_count": 3},
        quote="中心组成员每年度要撰写3篇以上学习心得或理论文章",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B1",
        "每月召开一次支委会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["支委会"], "period": "month", "min_per_period": 1},
        quote="每月召开一次支委会",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B2",
        "每月召开一次党小组会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["党小组会"], "period": "month", "min_per_period": 1, "target": "groups"},
        quote="每月召开一次党小组会",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B3",
        "每季度召开一次党员大会",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={"types": ["支部党员大会"], "period": "quarter", "min_per_period": 1},
        quote="每季度召开一次党员大会",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B4",
        "每季度或半年上一次党课",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={
            "types": ["党课"],
            "period": "quarter",
            "min_per_period": 1,
            "period_choices": ["quarter", "half_year"],
        },
        quote="每季度或半年上一次党课",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-M1",
        "书记每年至少给全体党员上一次党课",
        "talks",
        scope="member",
        applies_to={"roles": ["书记"], "role_org_types": ["党支部", "党总支", *TOP]},
        params={"kinds": ["党课"], "min": 1},
        quote="书记每年至少要给全体党员上一次党课",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-T1",
        "党员年度培训时间（按干部层级）",
        "training",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={
            "tiers": [
                {"when": {"cadre_levels": ["处级"]}, "min_days": 18},
                {"when": {"cadre_levels": ["其他干部", "县处级"]}, "min_days": 12},
                {"when": {"cadre_levels": ["村支部书记"]}, "min_hours": 40},
                # 基层班子成员: the 班子成员 level or a branch committee role (RULES.md 2a).
                {
                    "when": {
                        "cadre_levels": ["班子成员"],
                        "roles": COMMITTEE,
                        "role_org_types": ["党支部"],
                    },
                    "min_hours": 24,
                },
                {"when": {}, "min_hours": 16},
            ],
            # Thresholds in days count this many 学时 a day.
            "hours_per_day": 8,
        },
        quote="处级干部平均每年培训不少于18天 … 其他基层党员培训不少于16学时",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B5",
        "每年集中学习时间不少于40个学时",
        "session_hours",
        applies_to=org_types(*ORGS),
        params={"min_hours": 40},
        quote="各单位每年集中学习时间不少于40个学时",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-B6",
        "严格考勤和请销假，因故缺课的进行补课",
        "makeup_coverage",
        applies_to=org_types(*BRANCH),
        params={"statuses": ["请假"]},
        quote="严格考勤和请销假，对因故缺课的党员干部…进行补课",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-A1",
        "建立党员学习档案，本人填写、支部书记审阅",
        "notes_reviewed",
        applies_to=org_types(*BRANCH),
        quote="由党员干部本人填写，党支部书记审阅把关",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-P1",
        "学习计划提前报上级备案",
        "plan_filed",
        applies_to=org_types(*BRANCH),
        params={"deadline": "03-31"},
        quote="基层各党支部学习计划要提前报上级党（工）委组织（政工）科备案",
        source=SEED_001,
    )
)
add(
    rule(
        "LC-S1",
        "每月至少抽查40个基层党支部，每2个月汇报一次",
        "spot_checks",
        applies_to=org_types(*TOP),
        params={"per_month": 40, "report_every_months": 2},
        quote="每个月要至少抽查40个基层党支部，每2个月向区委组织部、宣传部汇报一次督导情况",
        source=SEED_001,
    )
)

# 002 — 吉林省委办公厅《关于推进学习型党组织建设的实施意见》
add(
    rule(
        "JL-C1",
        "中心组集中学习每个季度不少于1次",
        "cadence",
        applies_to=org_types(*TOP),
        params={"types": ["中心组学习"], "period": "quarter", "min_per_period": 1},
        quote="中心组集中学习每个季度不少于1次",
        source=SEED_002,
    )
)
add(
    rule(
        "JL-T1",
        "每年至少进行1次党员教育培训",
        "session_count",
        applies_to=org_types(*ORGS),
        params={"types": ["党员教育培训"], "min": 1},
        quote="各级各类党组织每年至少进行1次党员教育培训",
        source=SEED_002,
    )
)
add(
    rule(
        "JL-T2",
        "县处级干部每年脱产培训一般不少于110学时",
        "training",
        scope="member",
        applies_to={"cadre_levels": ["县处级", "处级"]},
        params={"tiers": [{"when": {}, "min_hours": 110}], "records_only": True},
        quote="脱产培训每年一般不少于110学时",
        source=SEED_002,
    )
)
add(
    rule(
        "JL-R1",
        "1月底前报送上一年度学习总结和本年度学习计划",
        "summary_sent",
        applies_to=org_types(*ORGS),
        params={"deadline": "01-31"},
        quote="各级党组织应在每年1月底前向上级党委组织、宣传部门专题报送上一年度学习情况总结和本年度学习计划",
        source=SEED_002,
    )
)

# 004 — 馆陶镇《关于推进学习型党组织建设的实施方案》
add(
    rule(
        "GT-L1",
        "领导干部每季度听一场党课或专题报告",
        "attended",
        scope="member",
        applies_to=LEADER,
        params={"types": ["党课", "专题讲座"], "period": "quarter", "min_per_period": 1},
        quote="每季度听一场党课或专题报告",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-L2",
        "书记、班子成员每年做2次以上专题报告",
        "talks",
        scope="member",
        applies_to={"roles": ["书记"], "cadre_levels": ["班子成员"]},
        params={"kinds": ["专题报告", "党课"], "min": 2},
        quote="每年要在本单位做2次以上的专题理论和形势报告",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-L3",
        "领导干部每年撰写2篇以上学习体会文章或调研报告",
        "notes",
        scope="member",
        applies_to=LEADER,
        params={"kinds": ["心得体会", "调研报告", "理论文章"], "min_count": 2},
        quote="每年撰写2篇以上学习体会文章或调研报告",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-E1",
        "每年评选10个优秀学习型党组织、30名优秀学习型党员",
        "selection_made",
        applies_to=org_types(*TOP),
        params={"organizations": 10, "members": 30},
        quote="评选10个优秀学习型党组织，评选30名优秀学习型党员",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-E2",
        "优秀学习型党员：有学习计划、每月一本推荐书并有读书笔记、发表文章、考试优良",
        "excellent_member",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={"reading_notes_per_month": 1, "publications": 2, "exam_min": 85},
        quote="每月读一本组织推荐的好书，并有相对应的读书笔记",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-E3",
        "优秀学习型组织：笔记报表记录详细、理论考试成绩优良",
        "excellent_org",
        applies_to=org_types(*BRANCH),
        params={"exam_min_average": 80},
        quote="学习笔记、学习报表记录详细，理论考试成绩优良",
        source=SEED_004,
    )
)
add(
    rule(
        "GT-X1",
        "一季一考：每季度参加一次理论考试",
        "exams_taken",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={"period": "quarter"},
        quote="坚持「一季一考」和每周学习制度",
        source=SEED_004,
    )
)

# 000 part 4 — 乡镇意见、金佛寺镇中心组/机关学习制度
add(
    rule(
        "JF-M1",
        "五个一：每周学习5小时、每月听一堂课、每季读一本书、每半年一篇心得、每年一次培训、笔记1万字以上",
        "five_ones",
        scope="member",
        applies_to=ALL_MEMBERS,
        params={
            "weekly_hours": 5,
            "lectures_per_month": 1,
            "lecture_types": ["党课", "专题讲座"],
            "reading_notes_per_quarter": 1,
            "reflections_per_half_year": 1,
            "trainings": 1,
            "min_words": 10000,
        },
        quote="一周学五小时，一月听一堂课，一季度读一本书，每半年撰写一篇学习心得体会或理论文章，每年至少接受一次学习培训，记学习笔记1万字以上",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-L1",
        "领导干部：笔记2万字、每季一篇心得、每年一次讲话、每季听一次党课、每月讲一堂党课",
        "leader_five",
        scope="member",
        applies_to=LEADER,
        params={
            "min_words": 20000,
            "reflections_per_quarter": 1,
            "talks_per_year": 1,
            "lectures_attended_per_quarter": 1,
            "lectures_given_per_month": 1,
        },
        quote="每年记学习笔记不少于2万字 … 每月为本村、本单位党员上一堂党课",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-T1",
        "每年至少3次党员教育培训、一般不少于16学时",
        "session_count",
        applies_to=org_types(*ORGS),
        params={"types": ["党员教育培训"], "min": 3, "min_hours": 16},
        quote="每个党组织每年至少进行3次党员教育培训，时间一般不少于16学时",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-B1",
        "每年集中举办专题讲座、辅导报告不少于3次",
        "session_count",
        applies_to=org_types(*ORGS),
        params={"types": ["专题讲座"], "min": 3},
        quote="每个党组织每年集中举办专题讲座、辅导报告不少于3次",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-B2",
        "每月至少集中学习三次、每次不少于2小时，不得以会代学",
        "cadence",
        applies_to=org_types(*BRANCH),
        params={
            # RULES.md 2a: "不得以会代学", only these four are study here.
            "types": ["集中学习", "专题讲座", "党员教育培训", "读书会"],
            "period": "month",
            "min_per_period": 3,
            "min_hours_each": 2,
        },
        quote="每月至少集中学习三次，每次学习时间不少于2小时，不得以会代学",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-B3",
        "每年至少组织开展3项主题学习教育活动",
        "session_count",
        applies_to=org_types(*ORGS),
        params={"types": ["主题党日"], "min": 3},
        quote="各党组织每年至少要组织开展3项主题学习教育活动",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-C1",
        "中心组每月学习一次，全年不少于12次",
        "cadence",
        applies_to=org_types(*TOP),
        params={"types": ["中心组学习"], "period": "month", "min_per_period": 1, "min_total": 12},
        quote="学习时间原则上确定为每月第一周的星期一，遇节假日、特殊情况顺延",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-C2",
        "中心组成员每年作1次以上中心发言",
        "talks",
        scope="member",
        applies_to={"roles": CENTRAL},
        params={"kinds": ["中心发言"], "min": 1},
        quote="每个中心组成员原则上每年要作1次以上的中心发言",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-C3",
        "中心组每年专家辅导讲座不少于2次",
        "session_count",
        applies_to=org_types(*TOP),
        params={"types": ["专题讲座"], "min": 2},
        quote="全年原则上不少于2次",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-C4",
        "中心组成员每年撰写、发表2至3篇文章或调研报告",
        "notes",
        scope="member",
        applies_to={"roles": CENTRAL},
        params={"kinds": ["理论文章", "调研报告"], "min_count": 2},
        quote="每个成员每年要撰写、发表2至3篇",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-C5",
        "中心组学习请假须履行手续，所缺内容及时补课",
        "makeup_coverage",
        applies_to=org_types(*TOP),
        params={"statuses": ["请假", "缺席"], "types": ["中心组学习"]},
        quote="须向党委中心组组长请假，并履行请假手续。对所缺内容要及时补课",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-K1",
        "学习考勤每季度通报一次，学习笔记年底检查一次",
        "attendance_notices",
        applies_to=org_types(*ORGS),
        quote="学习考勤情况每季度通报一次，学习笔记年底检查一次",
        source=SEED_000,
    )
)
add(
    rule(
        "JF-G1",
        "三年内20%、50%、80%以上党组织达到学习型党组织要求",
        "share_five_good",
        applies_to=org_types(*TOP),
        params={"targets": [0.2, 0.5, 0.8], "start_year": None},
        quote="力争全镇党组织有20%…50%…80%以上达到学习型党组织要求",
        source=SEED_000,
    )
)

# 000 part 3 — 中共中央《关于推进学习型党组织建设的意见》
add(
    rule(
        "ZY-C1",
        "领导班子集体学习每个季度不少于1次",
        "cadence",
        applies_to=org_types(*TOP),
        params={"types": ["中心组学习"], "period": "quarter", "min_per_period": 1},
        quote="保证集体学习每个季度不少于１次",
        source=SEED_000,
    )
)
add(
    rule(
        "ZY-T1",
        "县处级领导干部每年脱产培训一般不少于110学时",
        "training",
        scope="member",
        applies_to={"cadre_levels": ["县处级", "处级"]},
        params={"tiers": [{"when": {}, "min_hours": 110}], "records_only": True},
        quote="每年一般不少于１１０学时",
        source=SEED_000,
    )
)
add(
    rule(
        "ZY-L1",
        "市县级领导干部到基层调研每年不少于60天，撰写1至2篇调研报告",
        "field_research",
        scope="member",
        applies_to={"cadre_levels": ["县处级", "处级"]},
        params={"min_days": 60, "min_reports": 1},
        quote="省部级领导干部到基层调研每年不少于３０天，市、县级领导干部不少于６０天",
        source=SEED_000,
    )
)
add(
    rule(
        "ZY-R1",
        "1月底前报送上一年度学习总结和本年度学习计划",
        "summary_sent",
        applies_to=org_types(*ORGS),
        params={"deadline": "01-31"},
        quote="各级党组织应在每年１月底前向上级党委组织、宣传部门专题报送",
        source=SEED_000,
    )
)


def _variant(rule_id: str, **changes: Any) -> dict:
    r = {**RULES[rule_id], **{k: v for k, v in changes.items() if k != "params"}}
    if "params" in changes:
        r["params"] = {**RULES[rule_id]["params"], **changes["params"]}
    return r


def _prefixed(prefix: str) -> list[dict]:
    return [r for rid, r in RULES.items() if rid.startswith(prefix)]


# RULES.md section 5: the default profile, filled in from the documents.
DEFAULT_RULES = [
    RULES["FJ-B1"],
    RULES["FJ-B7"],
    RULES["FJ-B2"],
    RULES["FJ-B5"],
    RULES["LC-B1"],
    RULES["LC-B2"],
    _variant("FJ-P1", params={"deadline": "03-31", "needs_books": False}),
    _variant("LC-P1", params={"deadline": "03-31"}),
    RULES["JL-R1"],
    RULES["FJ-M1"],
    RULES["FJ-M2"],
    _variant(
        "LC-T1",
        title="党员年度培训不少于16学时，支部委员不少于24学时",
        params={
            "tiers": [
                {"when": {"roles": COMMITTEE, "role_org_types": ["党支部"]}, "min_hours": 24},
                {"when": {}, "min_hours": 16},
            ]
        },
    ),
]

PROFILES: list[dict] = [
    {
        "name": "默认",
        "description": "项目要求的默认方案（RULES.md 第5节）",
        "options": DEFAULT_OPTIONS,
        "rules": DEFAULT_RULES,
    },
    {
        "name": "福建省住建厅机关",
        "description": "福建省住建厅机关《关于推进学习型党组织建设的贯彻意见》",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("FJ-"),
    },
    {
        "name": "历城区",
        "description": "历城区《扎实开展创建学习型党组织活动的意见》",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("LC-"),
    },
    {
        "name": "吉林省",
        "description": "吉林省委办公厅《关于推进学习型党组织建设的实施意见》",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("JL-"),
    },
    {
        "name": "馆陶镇",
        "description": "馆陶镇《关于推进学习型党组织建设的实施方案》",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("GT-"),
    },
    {
        "name": "金佛寺镇",
        "description": "乡镇意见及金佛寺镇党委中心组、机关学习制度",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("JF-"),
    },
    {
        "name": "中央意见",
        "description": "中共中央《关于推进学习型党组织建设的意见》",
        "options": DEFAULT_OPTIONS,
        "rules": _prefixed("ZY-"),
    },
]
