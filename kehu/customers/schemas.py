"""API shapes for customers."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from kehu.core.api import JsonDate, JsonDateTime, JsonInt, StrictSchema
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.custom_fields import KEY_PATTERN as CUSTOM_KEY_PATTERN
from kehu.customers.filtering import SORTS
from kehu.customers.masking import mask_value
from kehu.customers.merging import MAX_MERGE, MERGE_FIELDS

JsonNumber = int | float

KindT = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
StageT = Literal[tuple(Stage.values)]  # type: ignore[valid-type]
TierT = Literal[tuple(Tier.values)]  # type: ignore[valid-type]
GenderT = Literal[tuple(Gender.values)]  # type: ignore[valid-type]
SourceT = Literal[tuple(Source.values)]  # type: ignore[valid-type]
SizeT = Literal[tuple(Size.values)]  # type: ignore[valid-type]
# The API list's sorts: the list page's, and its own default, newest id first.
LIST_DEFAULT_SORT = "-id"
ListSortT = Literal[(LIST_DEFAULT_SORT, *SORTS)]  # type: ignore[valid-type]
# A phone as people type it: digits with an optional +, spaces, dashes or brackets.
PHONE = r"^(\+?[0-9][0-9 ()-]{5,24})?$"
EMAIL = (
    r"^([A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})?$"
)
CREDIT_CODE = r"^([0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18})?$"
# Custom values by key (kehu.customers.custom_fields): text, number, date "YYYY-MM-DD" or a
# choice; null clears one. Numbers come back as an integer, or as a decimal string when
# they have a fraction (exact: never a binary float).
CustomKey = Annotated[str, Field(pattern=CUSTOM_KEY_PATTERN)]
CustomValue = Annotated[str, Field(max_length=1000)] | JsonNumber | None
CUSTOM_DESCRIPTION = (
    "Custom fields by key (see /custom-fields): text, number, date (YYYY-MM-DD) or one of "
    "the choices; null clears a value."
)


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    company: str
    credit_code: str
    industry: str
    size: str
    mobile: str
    phone: str
    email: str
    wechat: str
    id_number: str = Field(..., description="Masked (110***********1234).")
    province: str
    city: str
    district: str
    street: str
    address_text: str
    birthday: date | None
    gender: str
    source: str
    referrer_id: int | None
    custom: dict[str, str | int | float | None] = Field(..., description=CUSTOM_DESCRIPTION)
    notes: str
    owner_id: int | None
    team_id: int | None
    department_id: int | None
    stage: str
    tier: str
    tier_reason: str
    tags: list[str]
    last_contact_at: datetime | None
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        names = getattr(obj, "tag_names", None)  # selectors.with_tag_names, for pages
        return names if names is not None else sorted(t.name for t in obj.tags.all())

    # Custody: mobile, phone, ID number and addresses always leave masked; the clear values
    # only through POST /customers/{id}/reveal (audited).
    @staticmethod
    def resolve_mobile(obj) -> str:
        return mask_value("mobile", obj.mobile or "")

    @staticmethod
    def resolve_phone(obj) -> str:
        return mask_value("phone", obj.phone or "")

    @staticmethod
    def resolve_id_number(obj) -> str:
        return mask_value("id_number", obj.id_number or "")

    @staticmethod
    def resolve_street(obj) -> str:
        return mask_value("street", obj.street or "")

    @staticmethod
    def resolve_address_text(obj) -> str:
        return mask_value("address_text", obj.address_text or "")

    @staticmethod
    def resolve_custom(obj) -> dict:
        return dict(obj.custom or {})


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class _Fields(StrictSchema):
    kind: KindT = Kind.INDIVIDUAL
    company: str = Field("", max_length=200)
    credit_code: str = Field("", pattern=CREDIT_CODE)
    industry: str = Field("", max_length=100)
    size: SizeT = ""
    mobile: str = Field("", max_length=32, pattern=PHONE)
    phone: str = Field("", max_length=32, pattern=PHONE)
    email: str = Field("", max_length=254, pattern=EMAIL)
    wechat: str = Field("", max_length=64)
    id_number: str = Field("", max_length=32, description="A PRC resident ID is checked.")
    province: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    district: str = Field("", max_length=50)
    street: str = Field("", max_length=200)
    address_text: str = Field("", max_length=2000)
    birthday: JsonDate | None = None
    gender: GenderT = ""
    source: SourceT = ""
    notes: str = Field("", max_length=10_000)
    stage: StageT = Stage.PROSPECT
    tier: TierT = Tier.ORDINARY
    tier_reason: str = Field("", max_length=200)
    tags: list[str] = Field([], max_length=50)
    custom: dict[CustomKey, CustomValue] = Field({}, max_length=200, description=CUSTOM_DESCRIPTION)


class CustomerIn(_Fields):
    name: str = Field(..., min_length=1, max_length=200)


class CustomerPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    kind: KindT = Field(None)
    name: str = Field(None, min_length=1, max_length=200)
    company: str = Field(None, max_length=200)
    credit_code: str = Field(None, pattern=CREDIT_CODE)
    industry: str = Field(None, max_length=100)
    size: SizeT = Field(None)
    mobile: str = Field(None, max_length=32, pattern=PHONE)
    phone: str = Field(None, max_length=32, pattern=PHONE)
    email: str = Field(None, max_length=254, pattern=EMAIL)
    wechat: str = Field(None, max_length=64)
    id_number: str = Field(None, max_length=32, description="A PRC resident ID is checked.")
    province: str = Field(None, max_length=50)
    city: str = Field(None, max_length=50)
    district: str = Field(None, max_length=50)
    street: str = Field(None, max_length=200)
    address_text: str = Field(None, max_length=2000)
    birthday: JsonDate | None = None
    gender: GenderT = Field(None)
    source: SourceT = Field(None)
    notes: str = Field(None, max_length=10_000)
    stage: StageT = Field(None)
    tier: TierT = Field(None)
    tier_reason: str = Field(None, max_length=200)
    tags: list[str] = Field(None, max_length=50)
    custom: dict[CustomKey, CustomValue] = Field(
        None, max_length=200, description="Only the keys sent change. " + CUSTOM_DESCRIPTION
    )


class ReasonIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=200)


class TransferIn(StrictSchema):
    customer_ids: list[JsonInt] = Field(..., min_length=1, max_length=10_000)
    to_user_id: JsonInt
    reason: str = Field(..., min_length=1, max_length=200)


class TransferOut(Schema):
    moved: int


class ChangeOut(Schema):
    id: int
    changed_at: datetime
    actor_id: int | None
    field: str
    old_value: str
    new_value: str

    # Custody: the history of a masked field stays masked too.
    @staticmethod
    def resolve_old_value(obj) -> str:
        return mask_value(obj.field, obj.old_value)

    @staticmethod
    def resolve_new_value(obj) -> str:
        return mask_value(obj.field, obj.new_value)


class InteractionOut(Schema):
    id: int
    channel: str
    happened_at: datetime
    summary: str
    outcome: str
    next_step: str
    next_step_due: date | None
    next_step_done: bool
    author_id: int | None


class InteractionIn(StrictSchema):
    channel: Literal[tuple(Channel.values)]  # type: ignore[valid-type]
    summary: str = Field(..., min_length=1, max_length=10_000, pattern=r"\S")
    happened_at: JsonDateTime | None = Field(None, description="Default: now. Not in the future.")
    outcome: str = Field("", max_length=200)
    next_step: str = Field("", max_length=200)
    next_step_due: JsonDate | None = Field(None, description="Needs a next_step.")


# --- Contacts ----------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    role: str
    mobile: str = Field(..., description="Masked (138****5678).")
    email: str
    wechat: str
    is_primary: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_mobile(obj) -> str:
        from kehu.customers.masking import masked_values

        return masked_values(obj)["mobile"]


class ContactIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=100)
    role: str = Field("", max_length=100)
    mobile: str = Field("", max_length=32, pattern=PHONE)
    email: str = Field("", max_length=254, pattern=EMAIL)
    wechat: str = Field("", max_length=64)
    is_primary: bool = Field(False, description="A new primary contact replaces the old one.")


class ContactPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    name: str = Field(None, min_length=1, max_length=100)
    role: str = Field(None, max_length=100)
    mobile: str = Field(None, max_length=32, pattern=PHONE)
    email: str = Field(None, max_length=254, pattern=EMAIL)
    wechat: str = Field(None, max_length=64)
    is_primary: bool = Field(None)


# --- Custody ------------------------------------------------------------------------------


class RevealOut(Schema):
    """The masked fields in the clear (the reveal is audited)."""

    mobile: str
    phone: str
    id_number: str
    street: str
    address_text: str


# --- Duplicates, merge, restore ------------------------------------------------------------

# Ids are 64-bit integers in the database. The limits come before JsonInt's validator, so
# that the OpenAPI schema shows them as minimum/maximum.
CustomerId = Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807), *JsonInt.__metadata__]
MergeFieldT = Literal[tuple(MERGE_FIELDS)]  # type: ignore[valid-type]


class DuplicateQueryIn(StrictSchema):
    """The values of a customer about to be created; any may be empty."""

    name: str = Field("", max_length=200)
    company: str = Field("", max_length=200)
    mobile: str = Field("", max_length=32, description="As typed; compared by its digits.")
    email: str = Field("", max_length=254)
    city: str = Field("", max_length=50)
    kind: Literal[tuple(["", *Kind.values])] = ""  # type: ignore[valid-type]
    exclude_id: CustomerId | None = Field(None, description="Leave this customer out.")


class DuplicateOut(Schema):
    """A likely duplicate. Its details are null unless you may open it (or claim it from
    the pool); its reasons and whose it is are always given."""

    reasons: list[Literal["mobile", "email", "name_company", "pinyin_city"]]
    held_by: Literal["you", "colleague", "pool"]
    owner_name: str = Field(description="The colleague who looks after it, else empty.")
    customer_id: int | None
    name: str | None
    company: str | None
    city: str | None


class DuplicatesOut(Schema):
    matches: list[DuplicateOut]


class MergeVersionIn(StrictSchema):
    id: CustomerId
    version: JsonInt = Field(..., ge=1)


class MergeIn(StrictSchema):
    target_id: CustomerId = Field(description="The record that survives.")
    other_ids: list[CustomerId] = Field(..., min_length=1, max_length=MAX_MERGE)
    reason: str = Field(..., min_length=1, max_length=200, pattern=r"\S")
    versions: list[MergeVersionIn] | None = Field(
        None,
        max_length=MAX_MERGE + 1,
        description=(
            "The versions you based the merge on; a record changed since gives 409. "
            "Leave out to merge whatever is current."
        ),
    )
    choices: dict[MergeFieldT, CustomerId] | None = Field(
        None,
        description=(
            "Field → id of the record whose value the survivor takes. Otherwise the target "
            "keeps its values and empty ones are filled from the others; notes are combined."
        ),
    )


class MergedOut(Schema):
    """The answer for a customer id that was merged into another (308, with Location)."""

    merged_into: int
