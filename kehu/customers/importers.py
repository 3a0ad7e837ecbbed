"""Importing customers (and an organisation's contact) from CSV, XLSX and vCard files.

Registered with kehu.dataio's job runner in ``CustomersConfig.ready()``. One batch at a
time, inside the runner's transaction:

1. each row is turned into customer fields and checked with the same rules as the
   customer form and API (``services.clean_fields``); a bad row is rejected with its
   reasons in the job's language;
2. duplicates are looked up for the whole batch at once (normalised mobile, lower-cased
   email, name + company), in the database and among the rows before it in the file;
3. by the duplicate policy a duplicate is skipped, updates the existing customer (only
   one the importing user may change; non-empty values win, each change kept in the
   customer's history) or is created anyway;
4. new customers are written with one ``bulk_create`` (owner = the importing user,
   source "import" unless the file names a known source), their tags and contacts too,
   and one audit event records the batch with its row count.

A vCard becomes an individual customer (name, mobile, phone, email, company, address,
birthday, notes); a job title goes to the notes, or to the contact's role when the file
maps a contact column. Nothing is written in a dry run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import bulk
from kehu.core.access import scoped
from kehu.core.audit import audit_record
from kehu.core.permissions import Perm
from kehu.customers import custom_fields, search_keys
from kehu.customers.choices import Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.models import Contact, Customer, CustomerChange, CustomField, Tag
from kehu.customers.search import FTS_TABLE
from kehu.customers.services import (
    SEARCH_KEY_FIELDS,
    clean_contact_fields,
    clean_fields,
    compute_search_keys,
    search_key_values,
)
from kehu.dataio import registry
from kehu.dataio.registry import BatchResult, FieldSpec, OptionSpec
from kehu.dataio.values import parse_date, split_list

F = FieldSpec
CUSTOM_PREFIX = custom_fields.HISTORY_PREFIX  # a custom field's column: "custom.<key>"
FIELDS = (
    F(
        "name",
        gettext_lazy("Name"),
        (
            "姓名",
            "客户名称",
            "客户姓名",
            "客户名",
            "名称",
            "客户",
            "名字",
            "name",
            "full name",
            "customer",
            "customer name",
            "fn",
        ),
        required=True,
    ),
    F("kind", gettext_lazy("Kind"), ("客户类型", "类型", "kind", "type", "customer type")),
    F(
        "company",
        gettext_lazy("Company"),
        (
            "公司",
            "公司名称",
            "单位",
            "工作单位",
            "企业",
            "企业名称",
            "company",
            "company name",
            "organisation",
            "organization",
            "org",
        ),
    ),
    F(
        "credit_code",
        gettext_lazy("Unified social credit code"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "credit code", "uscc"),
    ),
    F("industry", gettext_lazy("Industry"), ("行业", "所属行业", "industry")),
    F("size", gettext_lazy("Size"), ("规模", "企业规模", "人数", "size", "company size")),
    F(
        "mobile",
        gettext_lazy("Mobile"),
        (
            "手机",
            "手机号",
            "手机号码",
            "移动电话",
            "电话",
            "联系电话",
            "电话号码",
            "mobile",
            "mobile phone",
            "cell",
            "cellphone",
            "phone",
            "phone number",
        ),
    ),
    F(
        "phone",
        gettext_lazy("Phone"),
        (
            "座机",
            "固定电话",
            "办公电话",
            "电话",
            "传真",
            "phone",
            "landline",
            "telephone",
            "tel",
            "work phone",
            "office phone",
        ),
    ),
    F(
        "email",
        gettext_lazy("Email"),
        (
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "邮箱地址",
            "email",
            "e-mail",
            "mail",
            "email address",
        ),
    ),
    F("wechat", gettext_lazy("WeChat ID"), ("微信", "微信号", "wechat", "wechat id", "weixin")),
    F(
        "province",
        gettext_lazy("Province"),
        ("省", "省份", "所在省", "province", "state", "region"),
    ),
    F("city", gettext_lazy("City"), ("市", "城市", "所在城市", "city")),
    F("district", gettext_lazy("District"), ("区", "区县", "县区", "区/县", "district", "county")),
    F(
        "street",
        gettext_lazy("Street address"),
        ("地址", "详细地址", "街道", "街道地址", "联系地址", "street", "address", "street address"),
    ),
    F(
        "address_text",
        gettext_lazy("Address (free form)"),
        ("境外地址", "完整地址", "free-form address", "full address", "address_text"),
    ),
    F(
        "birthday",
        gettext_lazy("Birthday"),
        (
            "生日",
            "出生日期",
            "出生年月日",
            "birthday",
            "date of birth",
            "birth date",
            "dob",
            "bday",
        ),
    ),
    F("gender", gettext_lazy("Gender"), ("性别", "gender", "sex")),
    F("source", gettext_lazy("Source"), ("来源", "客户来源", "source", "lead source")),
    F("stage", gettext_lazy("Stage"), ("阶段", "客户阶段", "生命周期", "stage")),
    F("tier", gettext_lazy("Tier"), ("等级", "客户等级", "级别", "分级", "tier", "level")),
    F("tags", gettext_lazy("Tags"), ("标签", "客户标签", "tags", "tag", "labels")),
    F(
        "notes",
        gettext_lazy("Notes"),
        ("备注", "说明", "附注", "notes", "note", "remarks", "comment", "comments"),
    ),
    F(
        "title",
        gettext_lazy("Job title"),
        ("职位", "职务", "头衔", "title", "role", "job title", "position"),
    ),
    F(
        "contact_name",
        gettext_lazy("Contact name"),
        ("联系人", "联系人姓名", "contact", "contact name", "contact person"),
    ),
    F(
        "contact_mobile",
        gettext_lazy("Contact mobile"),
        ("联系人手机", "联系人电话", "contact mobile", "contact phone"),
    ),
    F("contact_email", gettext_lazy("Contact email"), ("联系人邮箱", "contact email")),
)
LABELS = {f.name: f.label for f in FIELDS}
CUSTOMER_FIELDS = (
    "kind", "name", "company", "credit_code", "industry", "size", "mobile", "phone", "email",
    "wechat", "province", "city", "district", "street", "address_text", "gender", "source",
    "stage", "tier", "notes",
)  # fmt: skip
# Fields an update may change (never the owner, kind or stage of someone's customer by file).
UPDATABLE = (
    "company", "credit_code", "industry", "size", "mobile", "phone", "email", "wechat",
    "province", "city", "district", "street", "address_text", "birthday", "gender", "notes",
)  # fmt: skip

SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {"个人": "individual", "person": "individual", "企业": "organisation",
             "公司": "organisation", "组织": "organisation", "单位": "organisation",
             "机构": "organisation", "organization": "organisation",
             "company": "organisation"},
    "gender": {"男": "male", "男性": "male", "先生": "male", "m": "male", "女": "female",
               "女性": "female", "女士": "female", "f": "female", "其他": "other",
               "未知": "", "unknown": ""},
    "stage": {"潜在": "prospect", "潜在客户": "prospect", "未来": "potential",
              "未来客户": "potential", "活跃": "active", "活跃客户": "active",
              "现有客户": "active", "流失": "churned", "已流失": "churned",
              "流失风险": "at_risk", "挽回": "won_back", "已挽回": "won_back"},
    "tier": {"重点": "key", "重点客户": "key", "大客户": "key", "普通": "ordinary",
             "普通客户": "ordinary", "小": "small", "小客户": "small"},
    "size": {},
    "source": {"调查": "survey", "市场调查": "survey", "抽奖": "lucky_draw",
               "介绍": "referral", "转介绍": "referral", "推荐": "referral",
               "官网": "website", "网站": "website", "展会": "fair", "上门": "walk_in",
               "到店": "walk_in", "电话营销": "cold_call", "陌拜": "cold_call",
               "导入": "import", "其他": "other"},
}  # fmt: skip
ENUMS = {"kind": Kind, "gender": Gender, "stage": Stage, "tier": Tier, "size": Size,
         "source": Source}  # fmt: skip


def _choice_lookup() -> dict[str, dict[str, str]]:
    """{field: {lower-cased value, label in any language or synonym: value}}."""
    table: dict[str, dict[str, str]] = {}
    for name, enum in ENUMS.items():
        entries = {str(v).lower(): str(v) for v in enum.values}
        for language in ("en", "zh-hans", "zh-hant"):
            with translation.override(language):
                for value, label in enum.choices:
                    if value:
                        entries.setdefault(str(label).strip().lower(), value)
        entries.update(SYNONYMS.get(name, {}))
        table[name] = entries
    return table


@dataclass
class _State:
    policy: str
    choices: dict[str, dict[str, str]]
    actor: Any
    custom_fields: list[CustomField] = field(default_factory=list)
    # Dry run only: keys of the rows earlier in the file (a real run finds them in the
    # database, where the earlier batches already are).
    seen: set[tuple[str, str]] = field(default_factory=set)
    # The columns of a new customer row on this database (None: a dry run writes nothing).
    layout: _Layout | None = None


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    clean: dict[str, Any]
    tags: list[str]
    contact: dict[str, Any] | None
    keys: list[tuple[str, str]]
    custom: dict[str, Any] = field(default_factory=dict)
    # The new customer's columns but the id and the fixed ones, as _create writes them
    # (computed ahead by prepare_batch; None when a later row of the batch changed it).
    record: tuple[Any, ...] | None = None


@dataclass
class _Prepared:
    """A batch after prepare_batch: the rows that passed the checks, the rejected ones,
    and the numbers of the batch's first and last rows."""

    good: list[_Row]
    rejected: list[tuple[int, dict[str, str], list[str]]]
    span: list[int]


def _keys(clean: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    mobile = search_keys.digits(clean.get("mobile") or "")[-11:]
    if mobile:
        keys.append(("m", mobile))
    email = (clean.get("email") or "").lower()
    if email:
        keys.append(("e", email))
    if clean.get("company"):
        keys.append(("n", f"{clean['name'].lower()}\x1f{clean['company'].lower()}"))
    return keys


# The columns of a new customer row, in the order _create builds them.
NEW_ROW_FIELDS = (*CUSTOMER_FIELDS, "birthday")
NEW_ROW_FIXED = ("owner_id", "team_id", "department_id", "assigned_at", "verified_at",
                 "created_at", "updated_at")  # fmt: skip


@dataclass
class _Layout:
    columns: list[str]
    variable: list[tuple[str, Any]]  # (field, its model default)
    birthday: int
    constants: tuple[Any, ...]
    change_columns: list[str]
    # A date as this database takes it (SQLite: text, as Django writes it); taken from
    # the main thread's connection, so a helper thread never opens one.
    day: Any = None


_layouts: dict[str, _Layout] = {}


def _layout(writer: bulk.BulkWriter) -> _Layout:
    if writer.vendor not in _layouts:
        fields = {f.attname: f for f in Customer._meta.concrete_fields}
        named = ("id", *NEW_ROW_FIELDS, "custom", *NEW_ROW_FIXED, *SEARCH_KEY_FIELDS)
        constant_columns, constants = writer.defaults(Customer, named)
        _layouts[writer.vendor] = _Layout(
            columns=writer.columns_of(Customer, named) + constant_columns,
            variable=[(name, fields[name].get_default()) for name in NEW_ROW_FIELDS],
            birthday=NEW_ROW_FIELDS.index("birthday"),
            constants=constants,
            change_columns=writer.columns_of(
                CustomerChange,
                ("customer_id", "changed_at", "actor_id", "field", "old_value", "new_value"),
            ),
            day=connection.ops.adapt_datefield_value if writer.naive_utc else None,
        )
    return _layouts[writer.vendor]


def _record(row: _Row, layout: _Layout) -> tuple[Any, ...]:
    """The columns of ``row``'s new customer in layout order, without the id and the
    fixed columns: its fields (model defaults for the missing ones), custom values,
    then its search keys. The values are exactly those the ORM would write for
    ``Customer(**row.clean)`` with these tags (tests/customers/test_import_speed.py)."""
    clean = row.clean
    values = [clean.get(name, default) for name, default in layout.variable]
    if layout.day is not None and values[layout.birthday] is not None:
        values[layout.birthday] = layout.day(values[layout.birthday])
    get = clean.get
    keys = search_key_values(
        name=get("name", ""),
        company=get("company", ""),
        mobile=get("mobile", ""),
        phone=get("phone", ""),
        email=get("email", ""),
        wechat=get("wechat", ""),
        city=get("city", ""),
        tags=row.tags,
    )
    custom = json.dumps(row.custom)  # as Django's JSONField writes it
    return (*values, custom, *keys)


# One probe of the column's index per value, whatever the planner believes about the
# table: a lateral subquery (OFFSET 0 keeps it one) is a parameterised index scan. With
# ``col = ANY(…)`` instead, a table that has not been analysed since it grew (an import
# into a new database; autovacuum late or off) was read whole for every batch: the
# import slowed down as it went. JIT is off for these short probes (its compilation
# alone took longer than they do).
_PROBE = (
    "SELECT c.id, c.updated_at, c.{column}{extra} "
    "FROM unnest(%s::text[]) AS k(v) CROSS JOIN LATERAL ("
    "SELECT id, updated_at, {column}{extra}, deleted_at, merged_into_id "
    "FROM customers_customer WHERE {column} = k.v{also} OFFSET 0) AS c "
    "WHERE c.deleted_at IS NULL AND c.merged_into_id IS NULL"
)


def _candidates(
    column: str, values: list[str], companies: list[str] | None = None
) -> list[tuple[Any, ...]]:
    """(id, updated_at, column[, company]) of the live, unmerged customers whose
    ``column`` is one of ``values`` (and, with ``companies``, whose company is one of
    those), in no particular order."""
    if connection.vendor == "postgresql":
        extra = ", company" if companies is not None else ""
        also = " AND company = ANY(%s::text[])" if companies is not None else ""
        sql = _PROBE.format(column=column, extra=extra, also=also)
        params: list[Any] = [values] if companies is None else [values, companies]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql, params)
            return cursor.fetchall()
    alive = Customer.objects.filter(merged_into__isnull=True).order_by()
    if companies is None:
        return list(
            alive.filter(**{f"{column}__in": values}).values_list("pk", "updated_at", column)
        )
    return list(
        alive.filter(**{f"{column}__in": values}, company__in=companies).values_list(
            "pk", "updated_at", column, "company"
        )
    )


class CustomerImporter(registry.Importer):
    kind = "customers"
    label = gettext_lazy("Customers")
    permission = Perm.IMPORT_CUSTOMERS
    options = (
        OptionSpec(
            "on_duplicate",
            gettext_lazy("When a row matches an existing customer"),
            (
                ("skip", gettext_lazy("Skip the row")),
                ("update", gettext_lazy("Update the existing customer")),
                ("create", gettext_lazy("Create a new customer anyway")),
            ),
            "skip",
        ),
    )
    batch_size = 2000
    result_url_name = "customers:list"

    @property  # type: ignore[override]
    def fields(self) -> tuple[FieldSpec, ...]:
        """The built-in fields, then the custom fields in use (a column headed by their
        label in any language, or their key, is guessed)."""
        return FIELDS + tuple(
            FieldSpec(
                f"{CUSTOM_PREFIX}{f.key}",
                f.label,
                (f.label_en, f.label_zh_hans, f.label_zh_hant, f.key),
                required=f.required,
            )
            for f in custom_fields.active_fields()
        )

    def start(self, job: Any, *, dry_run: bool) -> _State:
        return _State(
            policy=job.options.get("on_duplicate", "skip"),
            choices=_choice_lookup(),
            actor=job.actor,
            custom_fields=list(custom_fields.active_fields()),
            layout=None if dry_run else _layout(bulk.BulkWriter()),
        )

    # --- one row ---------------------------------------------------------------------------

    def _convert(self, values: dict[str, str], state: _State) -> tuple[_Row | None, list[str]]:
        errors: dict[str, str] = {}
        fields: dict[str, Any] = {}
        notes_extra: list[str] = []
        for name in CUSTOMER_FIELDS:
            raw = values.get(name)
            if raw is None:
                continue
            raw = raw.strip()
            if name in ENUMS:
                if not raw:
                    continue
                value = state.choices[name].get(raw.lower())
                if value is None:
                    if name == "source":
                        notes_extra.append(_("Source: %(value)s") % {"value": raw[:200]})
                        continue
                    errors[name] = _("Not one of the choices.")
                    continue
                fields[name] = value
            else:
                fields[name] = raw
        birthday = (values.get("birthday") or "").strip()
        if birthday.startswith("--"):  # vCard birthday without a year
            notes_extra.append(_("Birthday: %(value)s") % {"value": birthday[2:][:20]})
        elif birthday:
            try:
                fields["birthday"] = parse_date(birthday)
            except ValueError:
                errors["birthday"] = _("Enter a date such as 1990-03-15.")
        contact_name = (values.get("contact_name") or "").strip()
        title = (values.get("title") or "").strip()
        if title and not contact_name:
            notes_extra.append(_("Job title: %(value)s") % {"value": title})
        if notes_extra:
            fields["notes"] = "\n".join(p for p in (fields.get("notes", ""), *notes_extra) if p)
        if not fields.get("name") and fields.get("company"):
            fields["name"] = fields["company"]
            fields.setdefault("kind", Kind.ORGANISATION)
        fields.setdefault("name", "")
        if contact_name:
            fields.setdefault("kind", Kind.ORGANISATION)
        fields["source"] = fields.get("source") or Source.IMPORT
        clean: dict[str, Any] = {}
        try:
            clean = clean_fields(fields)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, messages[0])
        contact = None
        if contact_name:
            try:
                contact = clean_contact_fields(
                    {
                        "name": contact_name,
                        "role": title,
                        "mobile": values.get("contact_mobile") or "",
                        "email": values.get("contact_email") or "",
                        "is_primary": True,
                    }
                )
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    key = {"name": "contact_name", "role": "title"}.get(name, f"contact_{name}")
                    errors.setdefault(key, messages[0])
        custom: dict[str, Any] = {}
        if state.custom_fields:
            given = {
                f.key: raw.strip()
                for f in state.custom_fields
                if (raw := values.get(f"{CUSTOM_PREFIX}{f.key}")) is not None and raw.strip()
            }
            try:
                custom = custom_fields.clean_custom_values(
                    given, partial=False, fields=state.custom_fields
                )
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    errors.setdefault(name, messages[0])
        if errors:
            labels = {**LABELS, **{f"{CUSTOM_PREFIX}{f.key}": f.label for f in state.custom_fields}}
            return None, [f"{labels.get(n, n)}: {m}" for n, m in sorted(errors.items())]
        tags = [t[:50] for t in split_list(values.get("tags") or "")]
        return _Row(0, values, clean, tags, contact, _keys(clean), custom), []

    # --- one batch -------------------------------------------------------------------------

    def prepare_batch(
        self,
        job: Any,
        rows: list[tuple[int, dict[str, str]]],
        *,
        state: _State,
        dry_run: bool,
    ) -> _Prepared:
        """Every row checked and converted, and the columns of its new customer computed
        (search keys included): no database, so the runner does it ahead, in a helper
        thread, while the batch before is written."""
        prepared = _Prepared([], [], [rows[0][0], rows[-1][0]] if rows else [])
        for number, values in rows:
            row, messages = self._convert(values, state)
            if row is None:
                prepared.rejected.append((number, values, messages))
                continue
            row.number = number
            if state.layout is not None:
                row.record = _record(row, state.layout)
            prepared.good.append(row)
        return prepared

    def process_batch(
        self,
        job: Any,
        rows: _Prepared | list[tuple[int, dict[str, str]]],
        *,
        state: _State,
        dry_run: bool,
    ) -> BatchResult:
        if not isinstance(rows, _Prepared):
            rows = self.prepare_batch(job, rows, state=state, dry_run=dry_run)
        result = BatchResult()
        result.rejected.extend(rows.rejected)
        good = rows.good
        existing = self._find_existing(good) if state.policy != "create" else {}
        editable: set[int] = set()
        if state.policy == "update" and existing:
            ids = set(existing.values())
            editable = set(
                scoped(state.actor, Perm.CHANGE_CUSTOMERS, Customer)
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
        to_create: list[_Row] = []
        pending: dict[tuple[str, str], _Row] = {}  # new rows of this batch, by key
        updates: dict[int, list[_Row]] = {}
        for row in good:
            match_id = next((existing[k] for k in row.keys if k in existing), None)
            earlier = next((pending[k] for k in row.keys if k in pending), None)
            seen_before = dry_run and any(k in state.seen for k in row.keys)
            if state.policy == "create" or (
                match_id is None and earlier is None and not seen_before
            ):
                to_create.append(row)
                for key in row.keys:
                    pending.setdefault(key, row)
                continue
            if state.policy == "skip":
                result.skipped += 1
            elif match_id is not None:
                if match_id in editable:
                    updates.setdefault(match_id, []).append(row)
                    result.updated += 1
                else:
                    result.rejected.append(
                        (
                            row.number,
                            row.values,
                            [
                                _(
                                    "A customer with the same mobile, email or name and "
                                    "company exists, and you may not change it."
                                )
                            ],
                        )
                    )
            elif earlier is not None:
                self._merge_into(earlier, row)  # a repeat in this batch: later values win
                result.updated += 1
            else:  # dry run: a repeat of a row in an earlier batch would update it
                result.updated += 1
        result.created = len(to_create)
        if dry_run:
            for row in to_create:
                state.seen.update(row.keys)
            return result
        now = timezone.now()
        created = self._create(job, to_create, state.actor, now)
        changed = self._update(updates, state.actor, now) if updates else 0
        if created or changed:
            audit_record(
                actor=state.actor,
                action="customer.import",
                object_type="customers.customer",
                object_label=f"{job.original_name} (#{job.pk})"[:200],
                row_count=created + changed,
                changes={
                    "job": [None, job.pk],
                    "created": [None, created],
                    "updated": [None, changed],
                    "rows": [None, rows.span],
                },
            )
        return result

    # --- helpers ---------------------------------------------------------------------------

    def _find_existing(self, rows: list[_Row]) -> dict[tuple[str, str], int]:
        """{key: id of an existing customer} for the keys of this batch (3 queries): of
        the live, unmerged customers with that key, the one changed last (the highest
        (updated_at, id), as the customer list orders them)."""
        mobiles = sorted({v for row in rows for k, v in row.keys if k == "m"})
        emails = sorted({v for row in rows for k, v in row.keys if k == "e"})
        named = [row.clean for row in rows if row.clean.get("company")]
        names = sorted({c["name"] for c in named})
        companies = sorted({c["company"] for c in named})
        best: dict[tuple[str, str], tuple[Any, int]] = {}

        def offer(key: tuple[str, str], pk: int, updated_at: Any) -> None:
            if key not in best or (updated_at, pk) > best[key]:
                best[key] = (updated_at, pk)

        if mobiles:
            for pk, updated_at, digits in _candidates("mobile_digits", mobiles):
                offer(("m", digits), pk, updated_at)
        if emails:
            for pk, updated_at, email in _candidates("email_lower", emails):
                offer(("e", email), pk, updated_at)
        if names:
            for pk, updated_at, name, company in _candidates("name", names, companies):
                if company:
                    offer(("n", f"{name.lower()}\x1f{company.lower()}"), pk, updated_at)
        return {key: pk for key, (_updated_at, pk) in best.items()}

    @staticmethod
    def _merge_into(target: _Row, row: _Row) -> None:
        for name, value in row.clean.items():
            if value not in ("", None) and name != "source":
                target.clean[name] = value
        target.tags += [t for t in row.tags if t not in target.tags]
        target.contact = target.contact or row.contact
        target.custom = {**target.custom, **row.custom}
        target.record = None  # computed again from the merged values

    def _tags(self, names: Iterable[str]) -> dict[str, int]:
        """{lower-cased name: tag id}, creating the missing tags."""
        wanted = {n.lower(): n for n in names}
        if not wanted:
            return {}

        def lookup() -> dict[str, int]:
            return dict(
                Tag.objects.annotate(lname=Lower("name"))
                .filter(lname__in=list(wanted))
                .values_list("lname", "pk")
            )

        have = lookup()
        missing = [Tag(name=wanted[n]) for n in wanted if n not in have]
        if missing:
            Tag.objects.bulk_create(missing, ignore_conflicts=True)
            have = lookup()
        return have

    def _create(self, job: Any, rows: list[_Row], actor: Any, now: Any) -> int:
        """Write the new customers, their history entry, tags and contacts. Customers,
        history and tag links go as raw rows (COPY on PostgreSQL, executemany on SQLite:
        kehu.core.bulk) with ids reserved first; the values are exactly those the ORM
        would write for ``Customer(**row.clean)`` with the same owner, times and search
        keys (tests/customers/test_import_speed.py compares the two)."""
        if not rows:
            return 0
        writer = bulk.BulkWriter()
        layout = _layout(writer)
        ids = writer.reserve_ids(Customer, len(rows))
        stamp = writer.when(now)
        fixed = (actor.pk, actor.team_id, actor.department_id, stamp, stamp, stamp, stamp)
        split = len(layout.variable) + 1  # the fields and custom values, then the keys
        records = []
        for pk, row in zip(ids, rows, strict=True):
            record = row.record or _record(row, layout)
            records.append((pk, *record[:split], *fixed, *record[split:], *layout.constants))
        table = Customer._meta.db_table
        with writer.fts_in_bulk(table, FTS_TABLE, ids[0], ids[-1]):
            writer.write(table, layout.columns, records)
        label = f"{job.original_name} (#{job.pk})"[:500]
        writer.write(
            CustomerChange._meta.db_table,
            layout.change_columns,
            [(pk, stamp, actor.pk, "import", "", label) for pk in ids],
        )
        self._link_new_tags(writer, [(pk, row.tags) for pk, row in zip(ids, rows, strict=True)])
        contacts = [
            Contact(customer_id=pk, created_at=now, updated_at=now, **row.contact)
            for pk, row in zip(ids, rows, strict=True)
            if row.contact
        ]
        if contacts:
            Contact.objects.bulk_create(contacts, batch_size=1000)
        return len(ids)

    def _link_new_tags(self, writer: bulk.BulkWriter, pairs: list[tuple[int, list[str]]]) -> None:
        """Tag links of customers created just now (so none exists yet)."""
        pairs = [(pk, tags) for pk, tags in pairs if tags]
        if not pairs:
            return
        ids = self._tags(t for _pk, tags in pairs for t in tags)
        links: dict[tuple[int, int], None] = {}
        for pk, tags in pairs:
            for tag in tags:
                tag_id = ids.get(tag.lower())
                if tag_id is not None:
                    links.setdefault((pk, tag_id))
        through = Customer.tags.through
        writer.write(
            through._meta.db_table,
            writer.columns_of(through, ("customer_id", "tag_id")),
            list(links),
        )

    def _link_tags(self, pairs: list[tuple[int, list[str]]]) -> None:
        if not pairs:
            return
        ids = self._tags(t for _pk, tags in pairs for t in tags)
        through = Customer.tags.through
        through.objects.bulk_create(
            [
                through(customer_id=pk, tag_id=ids[t.lower()])
                for pk, tags in pairs
                for t in tags
                if t.lower() in ids
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )

    def _update(self, updates: dict[int, list[_Row]], actor: Any, now: Any) -> int:
        customers = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=list(updates))
        }
        # Tag names are part of search_text: the tags each customer has, and will have.
        tag_names: dict[int, set[str]] = {pk: set() for pk in customers}
        for pk, name in Customer.tags.through.objects.filter(
            customer_id__in=list(customers)
        ).values_list("customer_id", "tag__name"):
            tag_names[pk].add(name.lower())
        changes: list[CustomerChange] = []
        dirty: list[Customer] = []
        tag_pairs: list[tuple[int, list[str]]] = []
        contacts: list[Contact] = []
        for pk, rows in updates.items():
            customer = customers.get(pk)
            if customer is None:
                continue
            before = {n: getattr(customer, n) for n in UPDATABLE}
            custom_before = dict(customer.custom or {})
            had_tags = set(tag_names[pk])
            for row in rows:
                for name in UPDATABLE:
                    value = row.clean.get(name)
                    if value in ("", None):
                        continue
                    if name == "notes" and customer.notes and value not in customer.notes:
                        value = f"{customer.notes}\n{value}"
                    setattr(customer, name, value)
                if row.tags:
                    tag_pairs.append((pk, row.tags))
                    tag_names[pk].update(t.lower() for t in row.tags)
                if row.custom:
                    customer.custom = custom_fields.merge_custom(customer.custom or {}, row.custom)
                if row.contact:
                    contacts.append(
                        Contact(
                            customer_id=pk,
                            created_at=now,
                            updated_at=now,
                            **{**row.contact, "is_primary": False},
                        )
                    )
            diff = {n: (before[n], getattr(customer, n)) for n in UPDATABLE
                    if before[n] != getattr(customer, n)}  # fmt: skip
            for name, (old, new) in custom_fields.custom_changes(
                custom_before, customer.custom or {}
            ).items():
                diff[name] = (old, new)
            if not diff and tag_names[pk] == had_tags:
                continue
            compute_search_keys(customer, tags=tag_names[pk])
            customer.version += 1
            customer.updated_at = now
            dirty.append(customer)
            changes += [
                CustomerChange(
                    customer_id=pk,
                    changed_at=now,
                    actor_id=actor.pk,
                    field=name,
                    old_value="" if old is None else str(old),
                    new_value="" if new is None else str(new),
                )
                for name, (old, new) in diff.items()
            ]
        if dirty:
            Customer.objects.bulk_update(
                dirty,
                [*UPDATABLE, "custom", "mobile_digits", "email_lower", "name_pinyin",
                 "name_initials", "search_text", "version", "updated_at"],
                batch_size=200,
            )  # fmt: skip
            CustomerChange.objects.bulk_create(changes, batch_size=1000)
        self._link_tags(tag_pairs)
        if contacts:
            names = {(c.customer_id, c.name) for c in contacts}
            have = set(
                Contact.objects.filter(
                    customer_id__in={c for c, _n in names}, name__in={n for _c, n in names}
                ).values_list("customer_id", "name")
            )
            new = [c for c in contacts if (c.customer_id, c.name) not in have]
            if new:
                Contact.objects.bulk_create(new, batch_size=1000)
        return len(dirty)


def register() -> None:
    registry.register(CustomerImporter())
