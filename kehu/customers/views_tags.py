"""The tag vocabulary (``customers.tags``): list tags with how many customers carry
them; rename, merge or delete one. Writes go through kehu.customers.tags (audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.access import require
from kehu.core.forms import StyledForm, apply_errors, search_field
from kehu.core.permissions import Perm
from kehu.customers import tags
from kehu.customers.models import Tag


class TagSearchForm(StyledForm):
    q = search_field(gettext_lazy("Find a tag"))


class RenameForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("New name"), max_length=tags.NAME_MAX_LENGTH)


class MergeForm(StyledForm):
    target = forms.ModelChoiceField(
        label=gettext_lazy("Merge into"),
        queryset=Tag.objects.none(),
        help_text=gettext_lazy(
            "Every customer with this tag gets that tag instead; this tag is then deleted."
        ),
    )

    def __init__(self, *args: Any, tag: Tag, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Tag.objects.exclude(pk=tag.pk).order_by("name")


def _tag(request: HttpRequest, pk: int) -> Tag:
    try:
        return tags.tag_get(actor=request.user, pk=pk)
    except Tag.DoesNotExist as exc:
        raise Http404 from exc


@require(Perm.MANAGE_TAGS)
def tag_list(request: HttpRequest) -> HttpResponse:
    search = TagSearchForm(request.GET or None)
    q = search.cleaned_data.get("q", "") if search.is_valid() else ""
    return render(
        request,
        "customers/tags/tag_list.html",
        {"tags": list(tags.tag_list(actor=request.user, q=q)), "search": search, "q": q},
    )


def _detail(
    request: HttpRequest,
    tag: Tag,
    *,
    rename: RenameForm | None = None,
    merge: MergeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    count = tags.tag_customer_count(actor=request.user, tag=tag)
    return render(
        request,
        "customers/tags/tag_detail.html",
        {
            "tag": tag,
            "customer_count": count,
            "rename": rename or RenameForm(initial={"name": tag.name}),
            "merge": merge or MergeForm(tag=tag),
        },
        status=status,
    )


@require(Perm.MANAGE_TAGS)
def tag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _tag(request, pk))


@require(Perm.MANAGE_TAGS)
@require_POST
def tag_rename(request: HttpRequest, pk: int) -> HttpResponse:
    tag = _tag(request, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        old = tag.name
        try:
            tags.tag_rename(actor=request.user, tag=tag, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Tag %(old)s renamed %(new)s.") % {"old": old, "new": tag.name}
            )
            return redirect("customers:tag_detail", pk=tag.pk)
    return _detail(request, tag, rename=form, status=400)


@require(Perm.MANAGE_TAGS)
@require_POST
def tag_merge(request: HttpRequest, pk: int) -> HttpResponse:
    tag = _tag(request, pk)
    form = MergeForm(request.POST, tag=tag)
    if form.is_valid():
        target = form.cleaned_data["target"]
        try:
            changed = tags.tag_merge(actor=request.user, sources=[tag], target=target)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Tag %(old)s merged into %(new)s: %(n)d customers changed.")
                % {"old": tag.name, "new": target.name, "n": changed},
            )
            return redirect("customers:tag_detail", pk=target.pk)
    return _detail(request, tag, merge=form, status=400)


@require(Perm.MANAGE_TAGS)
@require_POST
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = _tag(request, pk)
    changed = tags.tag_delete(actor=request.user, tag=tag)
    messages.success(
        request,
        _("Tag %(name)s deleted: %(n)d customers changed.") % {"name": tag.name, "n": changed},
    )
    return redirect("customers:tag_list")
