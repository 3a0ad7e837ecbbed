"""The README's screenshot: the home page of an administrator, with demo data.

Only with KEHU_SCREENSHOT=1, so the normal suite does not rewrite docs/screenshot.png:

    KEHU_SCREENSHOT=1 KEHU_ENV=test .venv/bin/pytest tests/e2e/test_screenshot.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kehu.accounts.models import User
from kehu.demo import load_demo
from tests import factories
from tests.e2e.conftest import sign_in_ok

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("KEHU_SCREENSHOT") != "1", reason="set KEHU_SCREENSHOT=1 to write it"
    ),
]

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.mark.parametrize(
    ("locale", "language", "filename"),
    [("en-US", "en", "screenshot.png"), ("zh-CN", "zh-hans", "screenshot-zh.png")],
)
def test_home_page_screenshot(new_page, locale, language, filename):
    load_demo(seed=2026, users=40)
    factories.user("admin", role_code="administrator", name="陈静")
    page = new_page(locale=locale, viewport=VIEWPORT, label=filename)
    sign_in_ok(page, "admin")
    expect(page.locator("html")).to_have_attribute("lang", language)
    active = page.locator("[data-card=active_users] [data-value]")
    expect(active).to_have_text(str(User.objects.filter(is_active=True).count()))
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(DOCS / filename), full_page=False)
    assert (DOCS / filename).stat().st_size > 10_000


@pytest.mark.parametrize(
    ("locale", "language", "filename"),
    [("zh-CN", "zh-hans", "screenshot-customer-zh.png")],
)
def test_customer_file_screenshot(new_page, locale, language, filename):
    """A demo customer's file: contacts, needs, masked fields, timeline."""
    from kehu.customers.models import Customer

    load_demo(seed=2026, users=40)
    factories.user("admin", role_code="administrator", name="陈静")
    customer = (
        Customer.objects.filter(kind="organisation", needs__isnull=False, contacts__isnull=False)
        .order_by("id")
        .first()
    )
    assert customer is not None
    page = new_page(locale=locale, viewport={"width": 1280, "height": 1000}, label=filename)
    sign_in_ok(page, "admin")
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("h1")).to_contain_text(customer.name)
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(DOCS / filename), full_page=False)
    assert (DOCS / filename).stat().st_size > 10_000
