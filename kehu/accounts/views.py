"""Pages: sign-in and -out, profile and tokens, and the administration of people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts import selectors, services
from kehu.accounts.forms import (
    DepartmentForm,
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
    RoleForm,
    SetPasswordForm,
    TeamForm,
    TokenForm,
    UserForm,
)
from kehu.accounts.models import Department, Role, Team
from kehu.core.access import require
from kehu.core.errors import error_response
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import AUTHENTICATED, PUBLIC, Perm

CONFLICT = None  # message built lazily per request language


def _safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _form_page(
    request: HttpRequest, form: Any, title: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request, "core/form_page.html", {"form": form, "title": title, **extra}, status=status
    )


def _remember_language(request: HttpRequest, response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=False,
    )
    return response


def _conflict_message() -> str:
    return _("Someone else changed this record — reload it and apply your change again.")


# --- Sign-in ---------------------------------------------------------------------------


@require(PUBLIC)
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("core:home")
    )
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(
            request=request,
            identifier=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
        )
        if result.user is not None:
            login(request, result.user, backend="kehu.accounts.backends.KehuBackend")
            if result.user.language:
                return _remember_language(request, redirect(next_url), result.user.language)
            return redirect(next_url)
        if result.error == "locked":
            until = formats.date_format(timezone.localtime(result.locked_until), "H:i")
            form.add_error(
                None,
                _("Too many failed attempts. This account is locked until %(time)s.")
                % {"time": until},
            )
            status = 429
        else:
            form.add_error(None, _("The username or password is not correct."))
            status = 401
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@require(AUTHENTICATED)
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.sign_out_audit(user=request.user)
    logout(request)
    return redirect("accounts:login")


@require(AUTHENTICATED)
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                apply_errors(form, exc)
            else:
                for message in exc.messages:
                    form.add_error("new_password", message)
        else:
            # Keep this session; every other session of the user ends.
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:profile")
    return _form_page(
        request,
        form,
        _("Change password"),
        status=400 if form.errors else 200,
        form_id="password-form",
        cancel_url=reverse("accounts:profile"),
    )


@require(PUBLIC)
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered in a cookie and on the user's profile."""
    language = request.POST.get("language", "")
    codes = {code for code, _name in settings.LANGUAGES}
    if language not in codes or not check_for_language(language):
        return error_response(
            request,
            400,
            "unknown_language",
            _("Unknown language “%(language)s”. Choose one of: %(choices)s.")
            % {"language": language[:20], "choices": ", ".join(sorted(codes))},
        )
    if request.user.is_authenticated:
        services.user_preferences_set(user=request.user, language=language)
    response = HttpResponseRedirect(_safe_next(request, request.POST.get("next"), "/"))
    return _remember_language(request, response, language)


# --- Profile and tokens ------------------------------------------------------------------


@require(AUTHENTICATED)
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    prefs = PreferencesForm(initial={"language": user.language, "time_zone": user.time_zone})
    token_form = TokenForm()
    new_token = None
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "preferences":
            prefs = PreferencesForm(request.POST)
            if prefs.is_valid():
                try:
                    services.user_preferences_set(user=user, **prefs.cleaned_data)
                except ValidationError as exc:
                    apply_errors(prefs, exc)
                else:
                    messages.success(request, _("Your preferences have been saved."))
                    response = redirect("accounts:profile")
                    if user.language:
                        _remember_language(request, response, user.language)
                    return response
            status = 400
        elif request.POST.get("form") == "token":
            token_form = TokenForm(request.POST)
            if token_form.is_valid():
                _token, new_token = services.token_create(
                    actor=user,
                    user=user,
                    name=token_form.cleaned_data["name"],
                    days=token_form.cleaned_data["days"],
                )
                token_form = TokenForm()
            else:
                status = 400
    tokens = selectors.token_list(actor=user, user=user)
    return render(
        request,
        "accounts/profile.html",
        {
            "prefs": prefs,
            "token_form": token_form,
            "tokens": tokens,
            "new_token": new_token,
        },
        status=status,
    )


@require(AUTHENTICATED)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.token_list(actor=request.user, user=request.user), pk=pk)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token has been revoked."))
    return redirect("accounts:profile")


# --- Users ----------------------------------------------------------------------------------


@require(Perm.MANAGE_USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    page = Paginator(selectors.user_list(actor=request.user, q=q), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "accounts/user_list.html", {"page": page, "q": q, "query": f"q={q}" if q else ""}
    )


@require(Perm.MANAGE_USERS)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            user = services.user_create(
                actor=request.user,
                username=data.pop("username"),
                password=data.pop("password") or None,
                **data,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                exc = ValidationError({"password": exc.messages})
            apply_errors(form, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("accounts:user_list")
    return _form_page(
        request,
        form,
        _("New user"),
        status=400 if form.errors else 200,
        form_id="user-form",
        cancel_url=reverse("accounts:user_list"),
    )


@require(Perm.MANAGE_USERS)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=pk)
    initial = {
        f: getattr(user, f)
        for f in (
            "username",
            "name",
            "email",
            "mobile",
            "department",
            "team",
            "role",
            "language",
            "time_zone",
            "version",
        )
    }
    form = UserForm(request.POST or None, initial=initial, editing=True)
    conflict, status = "", 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("username", None)
        version = data.pop("version")
        try:
            services.user_update(actor=request.user, user=user, expected_version=version, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict, status = _conflict_message(), 409
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": user})
            return redirect("accounts:user_list")
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": form,
            "title": _("Edit user %(name)s") % {"name": user.username},
            "subject": user,
            "conflict": conflict,
            "password_form": SetPasswordForm(),
            "cancel_url": reverse("accounts:user_list"),
            "form_id": "user-form",
        },
        status=status,
    )


@require(Perm.MANAGE_USERS)
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=user, is_active=activate)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (
                _("%(name)s can sign in again.")
                if activate
                else _("%(name)s is disabled; their sessions and tokens have ended.")
            )
            % {"name": user},
        )
    return redirect("accounts:user_edit", pk=user.pk)


@require(Perm.MANAGE_USERS)
@require_POST
def user_set_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=pk)
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.password_set(
                actor=request.user, user=user, password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The password of %(name)s has been set.") % {"name": user})
    else:
        messages.error(request, _("Enter a password."))
    return redirect("accounts:user_edit", pk=user.pk)


# --- Departments, teams, roles ----------------------------------------------------------


def _org_edit(
    request: HttpRequest,
    *,
    form_class: Any,
    instance: Any,
    save: Any,
    fields: tuple[str, ...],
    title: str,
    list_url: str,
) -> HttpResponse:
    initial = {f: getattr(instance, f) for f in (*fields, "version")} if instance else None
    form = form_class(request.POST or None, initial=initial)
    if instance is not None:
        form.fields["version"].required = True
        if "code" in form.fields:
            form.fields["code"].disabled = True
    conflict, status = "", 200
    if request.method == "POST" and form.is_valid():
        data = {
            k: v
            for k, v in form.cleaned_data.items()
            if k in fields and not (instance and k == "code")
        }
        try:
            if instance is None:
                save(actor=request.user, **data)
            else:
                save(
                    instance,
                    actor=request.user,
                    expected_version=form.cleaned_data["version"],
                    **data,
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict, status = _conflict_message(), 409
        else:
            messages.success(request, _("Saved."))
            return redirect(list_url)
    if form.errors and status == 200:
        status = 400
    return _form_page(
        request, form, title, status=status, conflict=conflict, cancel_url=reverse(list_url)
    )


DEPARTMENT_FIELDS = ("code", "name_zh_hans", "name_zh_hant", "name_en", "description", "is_active")
TEAM_FIELDS = ("name", "department", "leader", "is_active")
ROLE_FIELDS = ("code", "name_zh_hans", "name_zh_hant", "name_en", "data_scope", "permissions")


@require(Perm.MANAGE_USERS)
def department_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/department_list.html",
        {"departments": selectors.department_list(actor=request.user)},
    )


@require(Perm.MANAGE_USERS)
def department_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Department, pk=pk) if pk else None
    return _org_edit(
        request,
        form_class=DepartmentForm,
        instance=instance,
        fields=DEPARTMENT_FIELDS,
        save=lambda obj=None, **kw: services.department_save(department=obj, **kw),
        title=_("Edit department") if instance else _("New department"),
        list_url="accounts:department_list",
    )


@require(Perm.MANAGE_USERS)
def team_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/team_list.html", {"teams": selectors.team_list(actor=request.user)}
    )


@require(Perm.MANAGE_USERS)
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Team, pk=pk) if pk else None
    return _org_edit(
        request,
        form_class=TeamForm,
        instance=instance,
        fields=TEAM_FIELDS,
        save=lambda obj=None, **kw: services.team_save(team=obj, **kw),
        title=_("Edit team") if instance else _("New team"),
        list_url="accounts:team_list",
    )


@require(Perm.MANAGE_USERS)
def role_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/role_list.html", {"roles": selectors.role_list(actor=request.user)}
    )


@require(Perm.MANAGE_USERS)
def role_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Role, pk=pk) if pk else None
    return _org_edit(
        request,
        form_class=RoleForm,
        instance=instance,
        fields=ROLE_FIELDS,
        save=lambda obj=None, **kw: services.role_save(role=obj, **kw),
        title=_("Edit role") if instance else _("New role"),
        list_url="accounts:role_list",
    )
