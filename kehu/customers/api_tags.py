"""API endpoints of the tag vocabulary (``customers.tags``): list, rename, merge, delete."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS, StrictSchema
from kehu.core.permissions import Perm
from kehu.customers import tags
from kehu.customers.models import Tag

router = Router(tags=["tags"])


class TagOut(Schema):
    id: int
    name: str
    customer_count: int = Field(..., description="Customers within your data scope that carry it.")


class TagRenameIn(StrictSchema):
    name: str = Field(..., max_length=200, description="1–50 printable characters once trimmed.")


class TagMergeIn(StrictSchema):
    into: int = Field(..., description="The id of the tag that replaces this one.")


class TagChangeOut(Schema):
    customers_changed: int


def _tag(request: HttpRequest, tag_id: int) -> Tag:
    try:
        return tags.tag_get(actor=request.user, pk=tag_id)
    except Tag.DoesNotExist:
        raise HttpError(404, "not found") from None


def _out(request: HttpRequest, tag: Tag) -> dict[str, Any]:
    count = tags.tag_customer_count(actor=request.user, tag=tag)
    return {"id": tag.pk, "name": tag.name, "customer_count": count}


@router.get("/tags", response={200: list[TagOut], **ERRORS}, summary="Tags, with their customers")
@require(Perm.MANAGE_TAGS)
def list_tags(request: HttpRequest, q: str = Query("", max_length=100)) -> Any:
    return list(tags.tag_list(actor=request.user, q=q))


@router.post(
    "/tags/{tag_id}/rename",
    response={200: TagOut, **WRITE_ERRORS},
    summary="Rename a tag on every customer (409 when another tag has the name: merge)",
)
@require(Perm.MANAGE_TAGS)
def rename_tag(request: HttpRequest, tag_id: int, payload: TagRenameIn) -> Any:
    tag = tags.tag_rename(actor=request.user, tag=_tag(request, tag_id), name=payload.name)
    return _out(request, tag)


@router.post(
    "/tags/{tag_id}/merge",
    response={200: TagChangeOut, **WRITE_ERRORS},
    summary="Merge a tag into another: its customers get that tag, this one is deleted",
)
@require(Perm.MANAGE_TAGS)
def merge_tag(request: HttpRequest, tag_id: int, payload: TagMergeIn) -> Any:
    source = _tag(request, tag_id)
    try:
        target = tags.tag_get(actor=request.user, pk=payload.into)
    except Tag.DoesNotExist:
        raise ValidationError({"into": [_("No such tag.")]}) from None
    changed = tags.tag_merge(actor=request.user, sources=[source], target=target)
    return {"customers_changed": changed}


@router.delete(
    "/tags/{tag_id}",
    response={200: TagChangeOut, **WRITE_ERRORS},
    summary="Delete a tag: taken off every customer",
)
@require(Perm.MANAGE_TAGS)
def delete_tag(request: HttpRequest, tag_id: int) -> Any:
    changed = tags.tag_delete(actor=request.user, tag=_tag(request, tag_id))
    return Status(200, {"customers_changed": changed})
