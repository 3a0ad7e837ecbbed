"""The demo gives organisation customers their contacts and about a third of all customers
their needs, the same for the same seed."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q

from kehu.customers.choices import Kind
from kehu.customers.models import Contact, Customer
from kehu.demo import load_demo
from kehu.needs.models import Need

pytestmark = pytest.mark.django_db


def test_demo_contacts_and_needs():
    summary = load_demo(seed=11, users=12, customers=300)
    assert summary["contacts"] == Contact.objects.count() > 0
    assert summary["needs"] == Need.objects.count() > 0
    organisations = Customer.objects.filter(kind=Kind.ORGANISATION)
    assert not Contact.objects.exclude(customer__kind=Kind.ORGANISATION).exists()
    per_org = organisations.annotate(
        n=Count("contacts"), primary=Count("contacts", filter=Q(contacts__is_primary=True))
    )
    assert all(1 <= c.n <= 3 and c.primary == 1 for c in per_org)
    with_needs = Customer.objects.filter(needs__isnull=False).distinct().count()
    assert 0.2 * 300 < with_needs < 0.45 * 300
    assert all(
        m.startswith(("+86", "+852")) for m in Contact.objects.values_list("mobile", flat=True)
    )
    assert Need.objects.filter(title__regex=r"[\u4e00-\u9fff]").exists()
    assert not Need.objects.exclude(customer__owner=None).filter(author=None).exists()

    # A second load adds to the new customers only.
    before = Contact.objects.count()
    again = load_demo(seed=12, users=0, customers=30)
    assert Contact.objects.count() == before + again["contacts"]
