"""``kehu demo``: believable, bilingual demo data, the same for the same seed.

Each capability adds its part here, so that a newcomer's first ``make run`` shows kehu
populated. Writes go in bulk (the benchmark measures rows per second).
"""

from __future__ import annotations

import random
import time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from kehu.accounts.models import Department, Role, Team, User
from kehu.core.audit import audit_record
from kehu.core.models import AuditEvent
from kehu.demo.customers import default_users, make_customers
from kehu.demo.names import CITIES, chinese_name, english_name, mobile_number, pinyin_username
from kehu.demo.needs import last_customer_id, make_contacts_and_needs
from kehu.demo.sales import default_orders, load_sales

DEMO_PASSWORD = "kehu-demo-2026"  # noqa: S105  (documented demo credential, demo users only)

TEAMS = [
    # (name, department code, city index)
    ("华东销售一组", "sales", 0),
    ("华东销售二组", "sales", 0),
    ("华南销售组", "sales", 1),
    ("华北大客户组", "sales", 2),
    ("客服热线组", "service", 0),
    ("售后上门组", "service", 1),
    ("市场活动组", "marketing", 0),
    ("品质保障组", "quality", 2),
]

ROLE_FOR_DEPARTMENT = {
    "sales": "sales",
    "service": "service_agent",
    "marketing": "marketer",
}


def demo_loaded() -> bool:
    return AuditEvent.objects.filter(action="demo.load").exists()


def load_demo(
    *,
    seed: int = 2026,
    users: int | None = None,
    customers: int = 300,
    orders: int | None = None,
    only_if_empty: bool = False,
) -> dict[str, Any] | None:
    """Create demo teams, colleagues and customers. Return a summary with rows per second.

    ``users`` defaults to 40, or one colleague per 400 customers for a large demo;
    ``orders`` to five per customer (about one in eight from walk-in consumers). Teams and
    colleagues are one transaction; customers are written in batches of their own (a
    million rows in one transaction would hold the SQLite write lock for minutes).
    """
    if only_if_empty and demo_loaded():
        return None
    if users is None:
        users = default_users(customers)
    rng = random.Random(seed)
    started = time.perf_counter()
    departments = {d.code: d for d in Department.objects.all()}
    roles = {r.code: r for r in Role.objects.all()}
    password = make_password(DEMO_PASSWORD)  # one hash for every demo user: fast, and demo only
    with transaction.atomic():
        teams = []
        for name, code, _city in TEAMS:
            team, _ = Team.objects.get_or_create(
                name=name, defaults={"department": departments[code]}
            )
            teams.append(team)
        taken = set(User.objects.values_list("username", flat=True))
        taken_mobiles = set(User.objects.exclude(mobile="").values_list("mobile", flat=True))
        new_users = []
        for i in range(users):
            team = teams[i % len(teams)]
            department_code = team.department.code
            if i % 7 == 6:
                name = english_name(rng)
                base = name.lower().replace(" ", ".")
            else:
                name = chinese_name(rng)
                base = pinyin_username(name)
            username, n = base, 1
            while username in taken:
                n += 1
                username = f"{base}{n}"
            taken.add(username)
            mobile = mobile_number(rng)
            while mobile in taken_mobiles:
                mobile = mobile_number(rng)
            taken_mobiles.add(mobile)
            role_code = (
                "manager" if i < len(teams) else ROLE_FOR_DEPARTMENT.get(department_code, "member")
            )
            new_users.append(
                User(
                    username=username,
                    name=name,
                    email=f"{username}@demo.kehu.local",
                    mobile=mobile,
                    department=departments[department_code],
                    team=team,
                    role=roles[role_code],
                    password=password,
                    time_zone="" if rng.random() < 0.9 else "Asia/Hong_Kong",
                )
            )
        User.objects.bulk_create(new_users, batch_size=1000)
        leaders = {
            u.team_id: u
            for u in User.objects.filter(username__in=[u.username for u in new_users[: len(teams)]])
        }
        for team in teams:
            if team.leader_id is None and team.pk in leaders:
                team.leader = leaders[team.pk]
                team.save(update_fields=["leader"])
        owners = list(
            User.objects.filter(
                role__code__in=["sales", "manager", "service_agent"], is_active=True
            ).order_by("pk")
        )
    after_id = last_customer_id()
    customer_rows = make_customers(rng, customers, owners) if owners and customers else 0
    # Its own random stream, so adding contacts and needs leaves the customers as they were.
    contact_rows, need_rows = make_contacts_and_needs(random.Random(seed + 1), after_id=after_id)
    sales = load_sales(
        random.Random(seed + 2),
        orders=default_orders(customers) if orders is None else orders,
        after_id=after_id,
    )
    rows = len(teams) + len(new_users) + customer_rows + contact_rows + need_rows
    rows += sum(sales.values())
    with transaction.atomic():
        audit_record(actor="demo", action="demo.load", object_label=f"seed={seed}", row_count=rows)
    seconds = time.perf_counter() - started
    return {
        "seed": seed,
        "teams": len(teams),
        "users": len(new_users),
        "customers": customer_rows,
        "contacts": contact_rows,
        "needs": need_rows,
        **sales,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
        "demo_password": DEMO_PASSWORD,
        "cities": CITIES[:3],
    }
