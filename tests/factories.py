"""Small factories for tests: real rows through the real services where it matters."""

from __future__ import annotations

import itertools
from typing import Any

from kehu.accounts.models import ApiToken, Department, Role, Team, User
from kehu.accounts.services import token_create

PASSWORD = "Correct-Horse-42"
_seq = itertools.count(1)


def department(code: str = "sales") -> Department:
    return Department.objects.get(code=code)


def team(name: str | None = None, department_code: str = "sales") -> Team:
    return Team.objects.create(
        name=name or f"team-{next(_seq)}", department=department(department_code)
    )


def role(code: str) -> Role:
    return Role.objects.get(code=code)


def user(
    username: str | None = None,
    *,
    role_code: str | None = "sales",
    team_obj: Team | None = None,
    password: str = PASSWORD,
    **fields: Any,
) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    fields.setdefault("department", team_obj.department if team_obj else None)
    u = User(
        username=username,
        name=fields.pop("name", username.title()),
        role=Role.objects.get(code=role_code) if role_code else None,
        team=team_obj,
        **fields,
    )
    u.set_password(password)
    u.save()
    return u


def api_token(u: User, days: int = 30) -> tuple[ApiToken, str]:
    return token_create(actor=u, user=u, name="test", days=days)


def customer(owner: User | None, name: str = "张三", **fields: Any):
    """A customer created through the real service (search keys, history, audit)."""
    from kehu.customers.services import customer_create

    actor = (
        owner
        or User.objects.filter(role__code="administrator").first()
        or user(f"creator{next(_seq)}", role_code="administrator")
    )
    tags = fields.pop("tags", ())
    return customer_create(actor=actor, owner=owner, name=name, tags=tags, **fields)
