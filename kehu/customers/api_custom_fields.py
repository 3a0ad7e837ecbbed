"""API of the custom-field definitions: anyone who sees customers may read them (to show
and fill the values); administrators (``customers.custom_fields``) define and change them.
The values themselves travel in ``custom`` of the customer endpoints."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS, JsonInt, StrictSchema
from kehu.core.permissions import Perm
from kehu.customers import custom_fields
from kehu.customers.choices import FieldKind
from kehu.customers.models import CustomField

router = Router(tags=["custom fields"])

FieldKindT = Literal[tuple(FieldKind.values)]  # type: ignore[valid-type]
LABEL = custom_fields.LABEL_MAX_LENGTH
Choice = Annotated[str, Field(min_length=1, max_length=custom_fields.CHOICE_MAX_LENGTH)]


class CustomFieldOut(Schema):
    id: int
    key: str
    kind: str
    label: str = Field(..., description="In the reader's language.")
    label_en: str
    label_zh_hans: str
    label_zh_hant: str
    choices: list[str]
    required: bool
    position: int
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_choices(obj: CustomField) -> list[str]:
        return [str(choice) for choice in obj.choices or []]


class CustomFieldIn(StrictSchema):
    key: str = Field(
        ...,
        pattern=custom_fields.KEY_PATTERN,
        description="Fixed once created; values are stored under it.",
    )
    kind: FieldKindT = Field(..., description="Fixed once created.")
    label_en: str = Field("", max_length=LABEL)
    label_zh_hans: str = Field("", max_length=LABEL)
    label_zh_hant: str = Field("", max_length=LABEL)
    choices: list[Choice] = Field(
        [],
        max_length=custom_fields.MAX_CHOICES,
        description="For kind=choice (at least one); empty otherwise.",
    )
    required: bool = False
    position: JsonInt = Field(0, ge=0, le=custom_fields.POSITION_MAX)


class CustomFieldPatch(StrictSchema):
    label_en: str = Field(None, max_length=LABEL)
    label_zh_hans: str = Field(None, max_length=LABEL)
    label_zh_hant: str = Field(None, max_length=LABEL)
    choices: list[Choice] = Field(
        None,
        max_length=custom_fields.MAX_CHOICES,
        description="Values already stored stay even if their choice is removed.",
    )
    required: bool = Field(None)
    position: JsonInt = Field(None, ge=0, le=custom_fields.POSITION_MAX)
    is_active: bool = Field(None, description="false retires the field; its values stay.")


@router.get(
    "/custom-fields",
    response={200: list[CustomFieldOut], **ERRORS},
    summary="Custom fields of the customer file",
)
@require(Perm.VIEW_CUSTOMERS)
def list_custom_fields(request: HttpRequest) -> Any:
    return list(custom_fields.all_fields())


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut, **WRITE_ERRORS},
    summary="Define a custom field",
)
@require(Perm.MANAGE_CUSTOM_FIELDS)
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Any:
    field = custom_fields.custom_field_create(actor=request.user, **payload.dict())
    return Status(201, field)


@router.patch(
    "/custom-fields/{field_id}",
    response={200: CustomFieldOut, **WRITE_ERRORS},
    summary="Change or retire a custom field",
)
@require(Perm.MANAGE_CUSTOM_FIELDS)
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch) -> Any:
    field = CustomField.objects.filter(pk=field_id).first()
    if field is None:
        raise HttpError(404, "not found")
    return custom_fields.custom_field_update(
        actor=request.user, field=field, **payload.dict(exclude_unset=True)
    )
