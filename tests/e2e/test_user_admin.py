"""Journey 3: an administrator (the built-in role, not a superuser) manages people:
users, departments, teams; disabling ends the user's sessions; concurrent edits conflict."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.accounts.models import Department, Team, User
from tests import factories
from tests.e2e.conftest import open_admin_menu, sign_in, sign_in_ok, submit, tr

pytestmark = pytest.mark.browser

USERS = "/accounts/users/"


@pytest.fixture
def admin(db):
    user = factories.user("admin1", role_code="administrator", name="管理员")
    assert not user.is_superuser
    return user


def user_row(page, username: str):
    return page.locator(f'#user-table tbody tr[data-username="{username}"]')


def test_user_management_journey(page, new_page, admin, sign_in_directly):
    sales, manager = factories.role("sales"), factories.role("manager")
    department = factories.department("sales")
    sign_in_directly(page, admin)
    page.goto("/")

    # Administration → Users → New user.
    open_admin_menu(page, USERS)
    expect(page.locator("#user-table")).to_be_visible()
    page.click("#new-user")
    page.wait_for_url(f"**{USERS}new/")
    form = page.locator("#user-form")
    form.locator("#id_username").fill("chenjing")
    form.locator("#id_name").fill("陈静")
    form.locator("#id_email").fill("Chen.Jing@example.com")
    form.locator("#id_mobile").fill("139 1234 5678")
    form.locator("#id_department").select_option(str(department.pk))
    form.locator("#id_role").select_option(str(sales.pk))
    expect(form.locator("#id_team")).to_be_visible()
    form.locator("#id_password").fill(factories.PASSWORD)
    assert submit(page, url_part="/new/").status == 302
    page.wait_for_url(f"**{USERS}")

    created = User.objects.get(username="chenjing")
    assert (created.name, created.email, created.mobile) == (
        "陈静",
        "chen.jing@example.com",
        "13912345678",
    )
    assert (created.role, created.department, created.is_active) == (sales, department, True)
    expect(user_row(page, "chenjing")).to_be_visible()
    expect(user_row(page, "chenjing")).to_contain_text("陈静")

    # Search by name.
    page.fill('#user-search input[name="q"]', "陈静")
    with page.expect_navigation():
        page.press('#user-search input[name="q"]', "Enter")
    assert "q=" in page.url
    expect(page.locator("#user-table tbody tr[data-username]")).to_have_count(1)
    expect(user_row(page, "chenjing")).to_be_visible()
    expect(user_row(page, "admin1")).to_have_count(0)

    # Edit: a new role.
    user_row(page, "chenjing").get_by_role("link", name="chenjing").click()
    page.wait_for_url(f"**{USERS}{created.pk}/")
    expect(page.locator("#id_username")).to_be_disabled()
    page.locator("#id_role").select_option(str(manager.pk))
    assert submit(page, url_part=f"{USERS}{created.pk}/").status == 302
    page.wait_for_url(f"**{USERS}")
    created.refresh_from_db()
    assert created.role == manager
    assert created.version == 2
    expect(user_row(page, "chenjing")).to_contain_text(manager.name_en)

    # The user signs in elsewhere…
    theirs = new_page(label="chenjing's browser")
    sign_in_ok(theirs, "chenjing")
    expect(theirs.locator("#user-menu")).to_have_text("陈静")

    # …and is disabled: their session ends at once and they cannot sign in again.
    page.goto(f"{USERS}{created.pk}/")
    page.click("#disable-user")
    expect(page.locator("#enable-user")).to_be_visible()
    assert User.objects.get(pk=created.pk).is_active is False

    theirs.reload()
    theirs.wait_for_url("**/accounts/login/**")
    expect(theirs.locator("#user-menu")).to_have_count(0)
    response = sign_in(theirs, "chenjing")
    assert response.status == 401
    expect(theirs.locator("#login-form .alert-danger")).to_have_text(
        tr("The username or password is not correct.", "en")
    )

    page.goto(USERS)
    expect(user_row(page, "chenjing")).to_contain_text(tr("disabled", "en"))

    # Enabled again: they can sign in.
    page.goto(f"{USERS}{created.pk}/")
    page.click("#enable-user")
    expect(page.locator("#disable-user")).to_be_visible()
    assert User.objects.get(pk=created.pk).is_active is True
    sign_in_ok(theirs, "chenjing")
    expect(theirs.locator("#user-menu")).to_have_text("陈静")


def test_create_a_department_and_a_team(page, admin, sign_in_directly):
    sign_in_directly(page, admin)
    page.goto("/")

    open_admin_menu(page, "/accounts/departments/")
    page.click('a[href="/accounts/departments/new/"]')
    page.wait_for_url("**/accounts/departments/new/")
    page.fill("#id_code", "after-sales")
    page.fill("#id_name_zh_hans", "售后服务部")
    page.fill("#id_name_zh_hant", "售後服務部")
    page.fill("#id_name_en", "After-sales service")
    page.fill("#id_description", "上门维修与备件")
    expect(page.locator("#id_is_active")).to_be_checked()
    assert submit(page, url_part="/accounts/departments/new/").status == 302
    page.wait_for_url("**/accounts/departments/")
    department = Department.objects.get(code="after-sales")
    assert (department.name_zh_hans, department.is_active) == ("售后服务部", True)
    row = page.locator("#department-table tbody tr", has_text="after-sales")
    expect(row).to_contain_text("After-sales service")

    open_admin_menu(page, "/accounts/teams/")
    page.click("#new-team")
    page.wait_for_url("**/accounts/teams/new/")
    page.fill("#id_name", "售后华东组")
    page.locator("#id_department").select_option(label="After-sales service")
    page.locator("#id_leader").select_option(str(admin.pk))
    assert submit(page, url_part="/accounts/teams/new/").status == 302
    page.wait_for_url("**/accounts/teams/")
    team = Team.objects.get(name="售后华东组")
    assert (team.department, team.leader, team.is_active) == (department, admin, True)
    row = page.locator("#team-table tbody tr", has_text="售后华东组")
    expect(row).to_contain_text("After-sales service")
    expect(row).to_contain_text("管理员")

    # The new department now has a team.
    page.goto("/accounts/departments/")
    row = page.locator("#department-table tbody tr", has_text="after-sales")
    expect(row.locator("td").nth(2)).to_have_text("1")


def test_concurrent_edits_conflict_and_nothing_is_lost(page, new_page, admin, sign_in_directly):
    target = factories.user("zhaoliu", name="赵六")
    sign_in_directly(page, admin)
    second = new_page(context=page.context, label="second tab")
    url = f"{USERS}{target.pk}/"
    page.goto(url)
    second.goto(url)

    page.fill("#id_name", "赵六（华东）")
    assert submit(page, url_part=url).status == 302
    page.wait_for_url(f"**{USERS}")

    second.fill("#id_email", "zhao.liu@example.com")
    response = submit(second, url_part=url)
    assert response.status == 409
    expect(second.locator("#conflict-message")).to_have_text(
        tr("Someone else changed this record — reload it and apply your change again.", "en")
    )
    target.refresh_from_db()
    assert (target.name, target.email, target.version) == ("赵六（华东）", "", 2)

    # Reloaded, the second tab shows the first change and can apply its own.
    second.goto(url)
    expect(second.locator("#id_name")).to_have_value("赵六（华东）")
    second.fill("#id_email", "zhao.liu@example.com")
    assert submit(second, url_part=url).status == 302
    target.refresh_from_db()
    assert (target.name, target.email, target.version) == (
        "赵六（华东）",
        "zhao.liu@example.com",
        3,
    )
