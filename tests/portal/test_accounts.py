from __future__ import annotations

from django.urls import reverse

from branches.models import Member, User

LOGIN = "/accounts/login/"


def test_log_in_with_username_and_password_lands_on_home(cast, client):
    response = client.post(LOGIN, {"username": "sec_a", "password": "pw-Secret-123"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "甲支部" in response.content.decode()


def test_wrong_password_shows_a_chinese_error(cast, client):
    response = client.post(LOGIN, {"username": "sec_a", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_repeated_failures_lock_the_account_even_with_the_right_password(cast, client):
    for _ in range(5):
        client.post(LOGIN, {"username": "sec_a", "password": "wrong"})
    response = client.post(LOGIN, {"username": "sec_a", "password": "pw-Secret-123"})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    # Another user from the same address is not locked out by sec_a's failures.
    response = client.post(LOGIN, {"username": "sec_b", "password": "pw-Secret-123"})
    assert response.status_code == 302


def test_secretary_issues_a_login_and_the_member_must_set_a_password(cast):
    member = cast.member_b_member
    response = cast.client("secretary_b").post(
        reverse("branches:member_issue_login", kwargs={"member_no": member.member_no})
    )
    assert response.status_code == 200
    password = response.context["password"]
    username = response.context["username"]
    assert username == "B002" and len(password) == 10
    from django.test import Client

    client = Client()
    assert client.post(LOGIN, {"username": username, "password": password}).status_code == 302
    # Every page leads to the password change until a new password is set.
    response = client.get(reverse("branches:member_detail", kwargs={"member_no": "B002"}))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    response = client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password1": "Xuexi-2026-new",
            "new_password2": "Xuexi-2026-mismatch",
        },
    )
    assert "输入的两个密码不一致。" in response.content.decode()
    client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password1": "Xuexi-2026-new",
            "new_password2": "Xuexi-2026-new",
        },
    )
    user = User.objects.get(username="B002")
    assert not user.must_change_password and user.check_password("Xuexi-2026-new")
    assert (
        client.get(reverse("branches:member_detail", kwargs={"member_no": "B002"})).status_code
        == 200
    )
    assert Member.objects.get(member_no="B002").user == user


def test_issuing_again_resets_the_password_without_a_second_account(cast):
    client = cast.client("secretary_b")
    url = reverse("branches:member_issue_login", kwargs={"member_no": "B002"})
    first = client.post(url).context["password"]
    second = client.post(url).context["password"]
    assert first != second
    assert User.objects.filter(username="B002").count() == 1
    assert User.objects.get(username="B002").check_password(second)
