"""Word counting (RULES.md: each CJK character one word, each Latin/digit run one word)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from attendance.text import jaccard, sketch, word_count


def test_examples_from_the_definition():
    assert word_count("学习贯彻党的二十大精神") == 11
    assert word_count("学习 Xi Jinping 思想，2025 年！") == 2 + 2 + 2 + 1 + 1
    assert word_count("，。！？、——  ") == 0
    assert word_count("COVID-19") == 2
    assert word_count("ＡＢＣ１２３") == 1  # full-width letters and digits are one run


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
punct = st.sampled_from(list("，。！？、；：“”（）《》 \n\t-—…"))


@given(st.lists(cjk, max_size=50), st.lists(punct, max_size=20))
def test_punctuation_never_counts_and_each_cjk_character_does(chars, marks):
    text = "".join(chars) + "".join(marks)
    assert word_count(text) == len(chars)


@given(st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True), min_size=0, max_size=20))
def test_latin_runs_separated_by_spaces_count_once_each(words):
    assert word_count(" ".join(words)) == len(words)


@given(st.text(max_size=200), st.text(max_size=200))
def test_counts_add_up_across_a_separator(a, b):
    assert word_count(a + "。" + b) == word_count(a) + word_count(b) or word_count(
        a + "。" + b
    ) <= word_count(a) + word_count(b)


NOTE = (
    "通过学习新修订的《中国共产党纪律处分条例》，我深刻认识到纪律建设是全面从严治党的治本之策。"
    "作为一名基层党员，要把六项纪律内化于心、外化于行，在日常工作中严守政治纪律和政治规矩，"
    "认真落实三会一课制度，按时参加组织生活，主动接受党员群众监督，做到知敬畏、存戒惧、守底线。"
)


def test_a_near_copy_shares_most_of_the_sketch_and_an_unrelated_text_none():
    near = NOTE.replace("基层党员", "普通党员").replace("日常工作", "本职工作")
    other = "今年以来，我们支部围绕乡村振兴开展调研，走访农户四十余户，形成三条对策建议。"
    assert sketch(NOTE) == sketch(NOTE)
    assert len(set(sketch(NOTE)) & set(sketch(near))) >= 8
    assert len(set(sketch(NOTE)) & set(sketch(other))) == 0
    assert jaccard(NOTE, near) > 0.8
    assert jaccard(NOTE, other) < 0.1
