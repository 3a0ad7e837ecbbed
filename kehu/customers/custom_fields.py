"""Custom fields of the customer file: administrators define them (text, number, date,
choice) without a code change; their values live in ``Customer.custom`` by key.

Writes here follow the services' rules (keyword-only, permission checked, one transaction,
audited). ``clean_custom_values`` is the one check of custom values, used by
``customer_create`` / ``customer_update`` and so by pages, API and imports alike.

Values are stored JSON-safe and exact:

- text: a string of at most 1,000 characters (control characters removed, trimmed);
- number: an ``int`` when the number is whole and within ±(2**53 − 1) (exact in every JSON
  reader), otherwise its canonical decimal string (``"12.5"``, never a binary float);
  at most 15 digits before and 6 after the decimal point;
- date: ``"YYYY-MM-DD"``;
- choice: one of the field's choices, exactly.

An empty value (``None`` or ``""``) removes the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm
from kehu.core.audit import audit_record, diff
from kehu.core.models import RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.choices import FieldKind
from kehu.customers.models import CustomField

# "custom.<key>" must fit CustomerChange.field (50 characters).
KEY_MAX_LENGTH = 43
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,42}$"
KEY_RE = re.compile(KEY_PATTERN)
LABEL_MAX_LENGTH = 100
LABELS = ("label_en", "label_zh_hans", "label_zh_hant")
TEXT_MAX_LENGTH = 1000
CHOICE_MAX_LENGTH = 100
MAX_CHOICES = 100
NUMBER_INT_DIGITS = 15
NUMBER_DECIMAL_PLACES = 6
SAFE_INTEGER = 2**53 - 1
POSITION_MAX = 32767
MAX_VALUES = 200
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HISTORY_PREFIX = "custom."

Value = str | int | None


def _require(actor: Any) -> None:
    if not has_perm(actor, Perm.MANAGE_CUSTOM_FIELDS):
        raise AccessDenied(Perm.MANAGE_CUSTOM_FIELDS)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()


# --- Reads ------------------------------------------------------------------------------------


def active_fields() -> list[CustomField]:
    """The active definitions, in position order (few rows: read whole)."""
    return list(CustomField.objects.filter(is_active=True).order_by("position", "key"))


def all_fields() -> QuerySet[CustomField]:
    return CustomField.objects.order_by("position", "key")


def field_labels() -> dict[str, str]:
    """key → label in the reader's language, for every field ever defined."""
    return {field.key: field.label for field in CustomField.objects.all()}


# --- Values -------------------------------------------------------------------------------------


def _clean_number(value: Any) -> tuple[Value, str]:
    if isinstance(value, bool):
        return None, _("Enter a number.")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, _("Enter a number.")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            return None, _("Enter a number, e.g. 42 or 12.5.")
        number = Decimal(text)
    else:
        return None, _("Enter a number.")
    if not number.is_finite():
        return None, _("Enter a number.")
    try:
        number = number.normalize()
    except InvalidOperation:
        return None, _("Enter a number.")
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    whole_digits = max(0, len(digits) + exponent)
    if places > NUMBER_DECIMAL_PLACES or whole_digits > NUMBER_INT_DIGITS:
        return None, _(
            "Enter a number with at most %(whole)d digits before and %(places)d after the "
            "decimal point."
        ) % {"whole": NUMBER_INT_DIGITS, "places": NUMBER_DECIMAL_PLACES}
    if number == number.to_integral_value() and abs(number) <= SAFE_INTEGER:
        return int(number), ""
    return format(number, "f"), ""


def _clean_date(value: Any) -> tuple[Value, str]:
    if isinstance(value, datetime):
        return None, _("Enter a date in the form YYYY-MM-DD.")
    if isinstance(value, date):
        return value.isoformat(), ""
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat(), ""
        except ValueError:
            pass
    return None, _("Enter a date in the form YYYY-MM-DD.")


def clean_value(field: CustomField, value: Any) -> tuple[Value, str]:
    """(normalised value, "") or (None, error message). ``None``/"" mean 'no value'."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _("This field is required.") if field.required else ""
    if field.kind == FieldKind.NUMBER:
        return _clean_number(value)
    if field.kind == FieldKind.DATE:
        return _clean_date(value)
    if not isinstance(value, str):
        return None, _("Enter text.")
    text = _printable(value)
    if not text:
        return None, _("This field is required.") if field.required else ""
    if field.kind == FieldKind.CHOICE:
        if text not in field.choices:
            return None, _("Not one of the choices.")
        return text, ""
    if len(text) > TEXT_MAX_LENGTH:
        return None, _("At most %(n)d characters.") % {"n": TEXT_MAX_LENGTH}
    return text, ""


def clean_custom_values(
    values: dict[str, Any] | None,
    *,
    partial: bool,
    current: dict[str, Any] | None = None,
    fields: Iterable[CustomField] | None = None,
) -> dict[str, Value]:
    """Check and normalise custom values: ``{key: value}``, ``None`` meaning "remove".

    ``partial=False`` (a new customer) enforces required fields that are not given;
    ``partial=True`` (an update) checks only the keys given. A value equal to the one in
    ``current`` is accepted as it is even if the definition changed since (a retired
    choice stays until someone changes it). Unknown or inactive keys are refused.
    Raises ValidationError naming each bad field as ``custom.<key>``.
    """
    values = values or {}
    current = current or {}
    if not isinstance(values, dict):
        raise ValidationError({"custom": _("Custom fields must be a set of key and value.")})
    if len(values) > MAX_VALUES:
        raise ValidationError({"custom": _("At most %(n)d custom fields.") % {"n": MAX_VALUES}})
    defined = {f.key: f for f in (fields if fields is not None else CustomField.objects.all())}
    errors: dict[str, str] = {}
    clean: dict[str, Value] = {}
    for key, value in values.items():
        name = f"{HISTORY_PREFIX}{key}"[:100]
        field = defined.get(key) if isinstance(key, str) else None
        unchanged = key in current and value == current[key] and value not in (None, "")
        if unchanged:
            # Sent back as stored: kept, even if the definition changed or was retired.
            clean[key] = value
            continue
        if field is None:
            errors[name] = _("There is no custom field with this key.")
            continue
        if not field.is_active:
            errors[name] = _("This custom field is no longer in use.")
            continue
        cleaned, error = clean_value(field, value)
        if error:
            errors[name] = error
        else:
            clean[key] = cleaned
    if not partial:
        for key, field in defined.items():
            if field.is_active and field.required and key not in values and key not in current:
                errors[f"{HISTORY_PREFIX}{key}"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    return clean


def merge_custom(current: dict[str, Any], clean: dict[str, Value]) -> dict[str, Any]:
    """``current`` with ``clean`` applied: None removes a key."""
    merged = dict(current or {})
    for key, value in clean.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def custom_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"custom.<key>": [old, new]}`` for the history and the audit event."""
    return {
        f"{HISTORY_PREFIX}{key}": [before.get(key), after.get(key)]
        for key in sorted(set(before or {}) | set(after or {}))
        if (before or {}).get(key) != (after or {}).get(key)
    }


# --- Definitions ----------------------------------------------------------------------------


def _clean_definition(data: dict[str, Any], *, kind: str) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in LABELS:
        if name in data:
            value = data[name]
            text = _printable(value) if isinstance(value, str) else ""
            if not isinstance(value, str):
                errors[name] = _("Enter text.")
            elif len(text) > LABEL_MAX_LENGTH:
                errors[name] = _("At most %(n)d characters.") % {"n": LABEL_MAX_LENGTH}
            clean[name] = text
    if "choices" in data:
        raw = data["choices"]
        if not isinstance(raw, list | tuple):
            errors["choices"] = _("Give the choices as a list.")
            raw = []
        choices: list[str] = []
        for item in raw:
            text = _printable(item) if isinstance(item, str) else ""
            if not text:
                errors["choices"] = _("A choice cannot be empty.")
            elif len(text) > CHOICE_MAX_LENGTH:
                errors["choices"] = _("A choice has at most %(n)d characters.") % {
                    "n": CHOICE_MAX_LENGTH
                }
            elif text not in choices:
                choices.append(text)
        if len(choices) > MAX_CHOICES:
            errors["choices"] = _("At most %(n)d choices.") % {"n": MAX_CHOICES}
        clean["choices"] = choices
    if kind == FieldKind.CHOICE:
        if "choices" in clean and not clean["choices"] and "choices" not in errors:
            errors["choices"] = _("A choice field needs at least one choice.")
    elif clean.get("choices"):
        errors["choices"] = _("Only a choice field has choices.")
    for name in ("required", "is_active"):
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = _("Enter yes or no.")
            clean[name] = bool(data[name])
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int):
            errors["position"] = _("Enter a whole number.")
        elif not 0 <= position <= POSITION_MAX:
            errors["position"] = _("Enter a number from 0 to %(n)d.") % {"n": POSITION_MAX}
        clean["position"] = position
    if errors:
        raise ValidationError(errors)
    return clean


def _snapshot(field: CustomField) -> dict[str, Any]:
    return {
        "key": field.key,
        "kind": field.kind,
        **{name: getattr(field, name) for name in LABELS},
        "choices": list(field.choices or []),
        "required": field.required,
        "position": field.position,
        "is_active": field.is_active,
    }


def custom_field_create(
    *,
    actor: Any,
    key: str,
    kind: str,
    label_en: str = "",
    label_zh_hans: str = "",
    label_zh_hant: str = "",
    choices: Iterable[str] = (),
    required: bool = False,
    position: int = 0,
) -> CustomField:
    """Define a new custom field. Its key and kind are fixed from then on (values already
    stored keep their meaning)."""
    _require(actor)
    errors: dict[str, str] = {}
    key = (key or "").strip() if isinstance(key, str) else ""
    if not KEY_RE.fullmatch(key):
        errors["key"] = _(
            "A key has 1 to %(n)d characters: lower-case letters, digits and _, starting "
            "with a letter."
        ) % {"n": KEY_MAX_LENGTH}
    if kind not in FieldKind.values:
        errors["kind"] = _("Not one of the choices.")
    try:
        clean = _clean_definition(
            {
                "label_en": label_en,
                "label_zh_hans": label_zh_hans,
                "label_zh_hant": label_zh_hant,
                "choices": list(choices or []),
                "required": required,
                "position": position,
            },
            kind=kind,
        )
    except ValidationError as exc:
        errors.update({name: msgs[0] for name, msgs in exc.message_dict.items()})
        clean = {}
    if not errors and not any(clean[name] for name in LABELS):
        errors["label_en"] = _("Give the field a label in at least one language.")
    if errors:
        raise ValidationError(errors)
    if CustomField.objects.filter(key=key).exists():
        raise RuleViolation({"key": _("A custom field with this key exists already.")})
    try:
        with transaction.atomic():
            field = CustomField.objects.create(key=key, kind=kind, **clean)
            audit_record(
                actor=actor,
                action="custom_field.create",
                obj=field,
                object_label=field.key,
                changes=diff({}, _snapshot(field)),
            )
    except IntegrityError:
        raise RuleViolation({"key": _("A custom field with this key exists already.")}) from None
    return field


def custom_field_update(*, actor: Any, field: CustomField, **changes: Any) -> CustomField:
    """Change the labels, choices, required flag, position or activity of a field.

    Removing a choice keeps the values already stored (nothing is lost); they show as
    they are until someone changes them."""
    _require(actor)
    allowed = {*LABELS, "choices", "required", "position", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            {name: _("This cannot be changed after the field is created.") for name in unknown}
        )
    clean = _clean_definition(changes, kind=field.kind)
    if field.kind == FieldKind.CHOICE and "choices" not in clean and not field.choices:
        raise ValidationError({"choices": _("A choice field needs at least one choice.")})
    with transaction.atomic():
        locked = CustomField.objects.select_for_update().get(pk=field.pk)
        before = _snapshot(locked)
        for name, value in clean.items():
            setattr(locked, name, value)
        if not any(getattr(locked, name) for name in LABELS):
            raise ValidationError(
                {"label_en": _("Give the field a label in at least one language.")}
            )
        delta = diff(before, _snapshot(locked))
        if delta:
            locked.save()
            action = (
                "custom_field.deactivate"
                if delta.get("is_active") == [True, False]
                else "custom_field.update"
            )
            audit_record(
                actor=actor, action=action, obj=locked, object_label=locked.key, changes=delta
            )
    for name in clean:
        setattr(field, name, getattr(locked, name))
    field.updated_at = locked.updated_at
    return field


def custom_field_deactivate(*, actor: Any, field: CustomField) -> CustomField:
    """Retire a field: it leaves forms and new input; stored values stay in the records."""
    return custom_field_update(actor=actor, field=field, is_active=False)
