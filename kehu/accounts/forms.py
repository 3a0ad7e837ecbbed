"""Forms for sign-in, profiles and the administration of users and organisation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Department, Role, Team, User
from kehu.core.forms import StyledForm
from kehu.core.permissions import Perm, Scope
from kehu.core.timezones import TIME_ZONES


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Company default"))] + [(tz, tz) for tz in TIME_ZONES]


def language_choices() -> list[tuple[str, Any]]:
    return [("", _("Company default")), *settings.LANGUAGES]


class LoginForm(StyledForm):
    identifier = forms.CharField(
        label=_("Username, email or mobile"),
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(StyledForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class SetPasswordForm(StyledForm):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PreferencesForm(StyledForm):
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=time_zone_choices)


class TokenForm(StyledForm):
    name = forms.CharField(label=_("Token name"), max_length=100)
    days = forms.IntegerField(
        label=_("Valid for (days, 0 = no expiry)"),
        min_value=0,
        max_value=3650,
        initial=settings.KEHU_TOKEN_DEFAULT_DAYS,
    )


class UserForm(StyledForm):
    username = forms.CharField(label=_("Username"), max_length=64)
    name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True), required=False
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False
    )
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all(), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=time_zone_choices)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        max_length=128,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
            self.fields["version"].required = True
            del self.fields["password"]
        else:
            del self.fields["version"]


class DepartmentForm(StyledForm):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name_zh_hans = forms.CharField(label=_("Name (Simplified Chinese)"), max_length=100)
    name_zh_hant = forms.CharField(label=_("Name (Traditional Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True)
    )
    leader = forms.ModelChoiceField(
        label=_("Leader"), queryset=User.objects.filter(is_active=True), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RoleForm(StyledForm):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name_zh_hans = forms.CharField(label=_("Name (Simplified Chinese)"), max_length=100)
    name_zh_hant = forms.CharField(label=_("Name (Traditional Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100)
    data_scope = forms.ChoiceField(label=_("Data scope"), choices=Scope.choices)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=Perm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
