"""Writes for accounts: sign-in, users, organisation, roles and API tokens.

Each service is keyword-only, runs in one transaction, checks permission and writes an
audit event in that transaction.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.backends import find_user, normalise_mobile
from kehu.accounts.models import ApiToken, Department, LoginThrottle, Role, Team, User
from kehu.core.access import AccessDenied, has_perm
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm, Scope
from kehu.core.request_context import current_request_info
from kehu.core.timezones import TIME_ZONES

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _require(actor: Any, perm: str) -> None:
    if not has_perm(actor, perm):
        raise AccessDenied(perm)


# --- Sign-in -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str = ""  # "", "invalid", "locked"
    locked_until: Any = None


def _throttle_keys(identifier: str) -> list[str]:
    # Per account when the identifier names one (username, email and mobile share a
    # lock), otherwise per typed identifier; plus a wider per-address limit.
    user = find_user(identifier)
    keys = [f"user:{user.pk}" if user is not None else "id:" + identifier.strip().lower()[:190]]
    ip = current_request_info().ip
    if ip:
        keys.append("ip:" + ip)
    return keys


def _locked_until(keys: list[str]) -> Any:
    now = timezone.now()
    times = LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).values_list(
        "locked_until", flat=True
    )
    return max((t for t in times if t is not None), default=None)


def sign_in(*, request: Any, identifier: str, password: str) -> SignInResult:
    """Check the credentials with throttling; every attempt is audited."""
    identifier = (identifier or "").strip()[:200]
    keys = _throttle_keys(identifier)
    until = _locked_until(keys)
    if until is not None:
        with transaction.atomic():
            audit_record(actor=None, action="auth.login_locked", object_label=identifier)
        return SignInResult(None, "locked", until)

    user = authenticate(request, username=identifier, password=password)
    limit = settings.KEHU_LOGIN_MAX_FAILURES
    with transaction.atomic():
        if user is None:
            for key in keys:
                # The address limit is wider: colleagues behind one office NAT share it.
                key_limit = limit * 4 if key.startswith("ip:") else limit
                row, _created = LoginThrottle.objects.select_for_update().get_or_create(key=key)
                row.failures += 1
                if row.failures >= key_limit:
                    row.locked_until = timezone.now() + timedelta(
                        minutes=settings.KEHU_LOGIN_LOCKOUT_MINUTES
                    )
                    row.failures = 0
                row.save()
            audit_record(actor=None, action="auth.login_failed", object_label=identifier)
            until = _locked_until(keys)
            return SignInResult(None, "locked" if until else "invalid", until)
        LoginThrottle.objects.filter(key=keys[0]).delete()
        audit_record(actor=user, action="auth.login", obj=user)
    return SignInResult(user)


def sign_out_audit(*, user: Any) -> None:
    if getattr(user, "pk", None):
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", obj=user)


# --- Users ---------------------------------------------------------------------------

USER_FIELDS = ("name", "email", "mobile", "department", "team", "role", "language", "time_zone")


def _clean_user_fields(fields: dict[str, Any], *, instance: User | None = None) -> dict[str, Any]:
    """Normalise and check profile fields. Bad values raise ValidationError; values that
    are fine but clash with another user (a taken email) raise RuleViolation."""
    errors: dict[str, str] = {}
    clashes: dict[str, str] = {}
    clean = dict(fields)
    others = User.objects.exclude(pk=instance.pk) if instance is not None else User.objects.all()
    if "email" in clean:
        clean["email"] = (clean["email"] or "").strip().lower()
        try:
            if clean["email"]:
                validate_email(clean["email"])
        except ValidationError:
            errors["email"] = _("Enter a valid email address.")
        if (
            clean["email"]
            and "email" not in errors
            and others.filter(email__iexact=clean["email"]).exists()
        ):
            clashes["email"] = _("Another user already has this email address.")
    if "mobile" in clean:
        raw = (clean["mobile"] or "").strip()
        clean["mobile"] = normalise_mobile(raw) if raw else ""
        if raw and not (7 <= len(clean["mobile"]) <= 15):
            errors["mobile"] = _("Enter a valid mobile number.")
        elif clean["mobile"] and others.filter(mobile=clean["mobile"]).exists():
            clashes["mobile"] = _("Another user already has this mobile number.")
    if clean.get("language") and clean["language"] not in LANGUAGE_CODES:
        errors["language"] = _("Unknown language.")
    if clean.get("time_zone") and clean["time_zone"] not in TIME_ZONES:
        errors["time_zone"] = _("Unknown time zone.")
    if errors:
        raise ValidationError({**clashes, **errors})
    if clashes:
        raise RuleViolation(clashes)
    team = clean.get("team")
    if team is not None:
        # A team lies in one department: the user's department follows the team.
        department = clean.get("department")
        if department is not None and department.pk != team.department_id:
            raise RuleViolation(
                {"team": _("This team belongs to another department.")}, code="rule"
            )
        clean["department"] = team.department
    return clean


def user_create(*, actor: Any, username: str, password: str | None = None, **fields: Any) -> User:
    """Create a user. ``actor`` may be None only for command-line set-up."""
    if actor is not None:
        _require(actor, Perm.MANAGE_USERS)
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            {"username": _("Use 2–64 letters, digits, dots, hyphens or underscores.")}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise RuleViolation({"username": _("This username is taken.")})
    unknown = set(fields) - set(USER_FIELDS) - {"is_superuser", "is_staff"}
    if unknown:
        raise TypeError(f"Unknown user fields: {sorted(unknown)}")
    clean = _clean_user_fields(fields)
    user = User(username=username, **clean)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            audit_record(
                actor=actor or "cli",
                action="user.create",
                obj=user,
                changes=diff(
                    {}, {f: getattr(user, f + "_id", getattr(user, f, None)) for f in USER_FIELDS}
                ),
            )
    except IntegrityError:
        raise RuleViolation({"username": _("This username is taken.")}) from None
    return user


def user_update(*, actor: Any, user: User, expected_version: int, **fields: Any) -> User:
    """Change a user's profile, organisation or role; stale versions conflict."""
    if actor.pk != user.pk or set(fields) - {"name", "email", "mobile", "language", "time_zone"}:
        _require(actor, Perm.MANAGE_USERS)
    unknown = set(fields) - set(USER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown user fields: {sorted(unknown)}")
    clean = _clean_user_fields(fields, instance=user)
    before = {f: getattr(user, f) for f in clean}
    changes = diff(before, clean)
    with transaction.atomic():
        current = User.objects.filter(pk=user.pk, version=expected_version)
        if not changes:
            # Nothing changes: check the version, but do not bump it (no false conflicts).
            if not current.exists():
                raise ConflictError(user)
            return user
        if current.update(version=F("version") + 1, **clean) != 1:
            raise ConflictError(user)
        for name, value in clean.items():
            setattr(user, name, value)
        user.version = expected_version + 1
        audit_record(actor=actor, action="user.update", obj=user, changes=changes)
    return user


def user_set_active(*, actor: Any, user: User, is_active: bool) -> User:
    """Enable or disable a user. Disabling ends every session and revokes every token."""
    _require(actor, Perm.MANAGE_USERS)
    if user.pk == actor.pk and not is_active:
        raise RuleViolation(_("You cannot disable your own account."), code="rule")
    with transaction.atomic():
        user.is_active = is_active
        update = {"is_active": is_active, "version": F("version") + 1}
        if not is_active:
            user.security_stamp = uuid.uuid4()
            update["security_stamp"] = user.security_stamp
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        User.objects.filter(pk=user.pk).update(**update)
        user.refresh_from_db(fields=["version"])
        audit_record(
            actor=actor,
            action="user.enable" if is_active else "user.disable",
            obj=user,
            changes={"is_active": [not is_active, is_active]},
        )
    return user


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """The user changes their own password; other sessions end."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("Your current password is not correct.")})
    validate_password(new_password, user)
    _store_password(actor=user, user=user, password=new_password, action="user.password_change")


def password_set(*, actor: Any, user: User, password: str) -> None:
    """An administrator sets a user's password; the user's sessions end."""
    _require(actor, Perm.MANAGE_USERS)
    validate_password(password, user)
    _store_password(actor=actor, user=user, password=password, action="user.password_set")


def _store_password(*, actor: Any, user: User, password: str, action: str) -> None:
    with transaction.atomic():
        user.set_password(password)
        user.security_stamp = uuid.uuid4()
        User.objects.filter(pk=user.pk).update(
            password=user.password, security_stamp=user.security_stamp
        )
        audit_record(actor=actor, action=action, obj=user)


# --- Organisation and roles ---------------------------------------------------------


def _save_with_version(obj: Any, expected_version: int | None, fields: dict[str, Any]) -> dict:
    before = {name: getattr(obj, name + "_id", getattr(obj, name, None)) for name in fields}
    for name, value in fields.items():
        setattr(obj, name, value)
    try:
        obj.validate_unique()
    except ValidationError as exc:
        raise RuleViolation(exc.message_dict) from None
    if obj.pk is None:
        obj.full_clean()
        obj.save()
        return diff({}, {n: getattr(obj, n + "_id", getattr(obj, n, None)) for n in fields})
    obj.full_clean(validate_unique=True)
    changed = (
        type(obj)
        .objects.filter(pk=obj.pk, version=expected_version)
        .update(version=F("version") + 1, **fields)
    )
    if changed != 1:
        raise ConflictError(obj)
    obj.version = (expected_version or 0) + 1
    return diff(before, {n: getattr(obj, n + "_id", getattr(obj, n, None)) for n in fields})


def department_save(
    *,
    actor: Any,
    department: Department | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> Department:
    _require(actor, Perm.MANAGE_USERS)
    obj = department or Department()
    with transaction.atomic():
        changes = _save_with_version(obj, expected_version, fields)
        audit_record(
            actor=actor,
            action="department.create" if department is None else "department.update",
            obj=obj,
            changes=changes,
        )
    return obj


def team_save(
    *, actor: Any, team: Team | None = None, expected_version: int | None = None, **fields: Any
) -> Team:
    _require(actor, Perm.MANAGE_USERS)
    obj = team or Team()
    with transaction.atomic():
        changes = _save_with_version(obj, expected_version, fields)
        audit_record(
            actor=actor,
            action="team.create" if team is None else "team.update",
            obj=obj,
            changes=changes,
        )
    return obj


def role_save(
    *, actor: Any, role: Role | None = None, expected_version: int | None = None, **fields: Any
) -> Role:
    _require(actor, Perm.MANAGE_USERS)
    perms = fields.get("permissions")
    if perms is not None:
        unknown = set(perms) - set(Perm.values)
        if unknown:
            raise ValidationError({"permissions": _("Unknown permission.")})
        fields["permissions"] = sorted(set(perms))
    if "data_scope" in fields and fields["data_scope"] not in Scope.values:
        raise ValidationError({"data_scope": _("Unknown data scope.")})
    obj = role or Role()
    with transaction.atomic():
        changes = _save_with_version(obj, expected_version, fields)
        audit_record(
            actor=actor,
            action="role.create" if role is None else "role.update",
            obj=obj,
            changes=changes,
        )
    return obj


# --- API tokens -------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_create(
    *, actor: Any, user: User, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the secret, which is never stored."""
    if actor is not None and actor.pk != user.pk:
        _require(actor, Perm.MANAGE_USERS)
    if not user.is_active:
        raise ValidationError(_("This user is disabled."))
    days = settings.KEHU_TOKEN_DEFAULT_DAYS if days is None else days  # 0: no expiry
    if days < 0 or days > 3650:
        raise ValidationError({"days": _("A token lives between 0 and 3650 days (0: no expiry).")})
    prefix, secret = ApiToken.new_secret()
    name = (name or "").strip()[:100] or _("API token")
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=_hash_token(secret),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        audit_record(
            actor=actor or "cli", action="token.create", obj=user, changes={"token": [None, prefix]}
        )
    return token, secret


def token_revoke(*, actor: Any, token: ApiToken) -> None:
    if actor.pk != token.user_id:
        _require(actor, Perm.MANAGE_USERS)
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="token.revoke",
            obj=token.user,
            changes={"token": [token.prefix, None]},
        )


def token_authenticate(raw: str) -> User | None:
    """The active user a token belongs to, or None (unknown, revoked, expired)."""
    if not raw or not raw.startswith("kehu_") or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__role")
        .filter(key_hash=_hash_token(raw))
        .first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute: no write per request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_preferences_set(
    *, user: User, language: str | None = None, time_zone: str | None = None
) -> User:
    """The user's own language and time zone; last write wins (a preference, not a record)."""
    fields: dict[str, Any] = {}
    if language is not None:
        fields["language"] = language
    if time_zone is not None:
        fields["time_zone"] = time_zone
    clean = _clean_user_fields(fields, instance=user)
    before = {name: getattr(user, name) for name in clean}
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(**clean)
        for name, value in clean.items():
            setattr(user, name, value)
        changes = diff(before, clean)
        if changes:
            audit_record(actor=user, action="user.preferences", obj=user, changes=changes)
    return user
