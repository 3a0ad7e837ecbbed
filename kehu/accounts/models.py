"""People and how they are organised: users, departments, teams, roles, API tokens."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.access import ScopeFields
from kehu.core.i18n import TrilingualNameMixin
from kehu.core.models import TimeStampedModel
from kehu.core.permissions import Scope


class Department(TrilingualNameMixin, TimeStampedModel):
    """A department of the company (市场部, 营销部 …); editable by administrators."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class Team(TimeStampedModel):
    """A working group inside a department; the unit of a 'team' data scope."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="teams"
    )
    leader = models.ForeignKey(
        "accounts.User",
        verbose_name=_("leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(TrilingualNameMixin, TimeStampedModel):
    """A bundle of permissions and a data scope (own / team / department / all)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    permissions = models.JSONField(_("permissions"), default=list, blank=True)
    data_scope = models.CharField(
        _("data scope"), max_length=20, choices=Scope.choices, default=Scope.OWN
    )
    is_system = models.BooleanField(_("built in"), default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields) -> User:
        if not username:
            raise ValueError("A username is required.")
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to kehu."""

    username = models.CharField(
        _("username"),
        max_length=64,
        unique=True,
        help_text=_("Letters, digits and . - _ only."),
    )
    name = models.CharField(_("full name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    role = models.ForeignKey(
        Role,
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the Django admin"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Rotated to end every session at once (disable, password change).
    security_stamp = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    access_scope = ScopeFields(own="pk", team="team", department="department")

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_unique",
                condition=~models.Q(email=""),
            ),
            models.UniqueConstraint(
                "mobile", name="accounts_user_mobile_unique", condition=~models.Q(mobile="")
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or self.username

    def get_short_name(self) -> str:
        return self.name or self.username

    def get_session_auth_hash(self) -> str:
        # Sessions carry a hash of the password *and* the security stamp, so rotating the
        # stamp signs the user out everywhere.
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "kehu.accounts.User.get_session_auth_hash",
            f"{self.password}|{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def new_secret() -> tuple[str, str]:
        """Return (prefix, token); 256 random bits after the prefix."""
        prefix = secrets.token_hex(4)
        return prefix, f"kehu_{prefix}_{secrets.token_urlsafe(32)}"


class LoginThrottle(models.Model):
    """Failed sign-ins per identifier (a username, an email, a mobile) and when it unlocks."""

    key = models.CharField(max_length=200, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("sign-in throttle")

    def __str__(self) -> str:
        return self.key
