"""The ``kehu`` command: serve, worker, migrate, createadmin, demo, backup, restore,
audit, user, token — and ``manage`` for any Django command.

Help and messages follow the user's language (KEHU_LANGUAGE, else LANG: zh_CN → 简体中文,
zh_TW/zh_HK → 繁體中文, otherwise English). Bad input ends with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn


def _language_from_env() -> str:
    value = (
        os.environ.get("KEHU_LANGUAGE")
        or os.environ.get("LC_ALL")
        or os.environ.get("LC_MESSAGES")
        or os.environ.get("LANG")
        or ""
    ).lower()
    if value.startswith(("zh-hant", "zh_tw", "zh_hk", "zh_mo", "zh-tw", "zh-hk")):
        return "zh-hant"
    if value.startswith("zh"):
        return "zh-hans"
    return "en"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"kehu: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from django.utils import translation

    translation.activate(_language_from_env())


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"kehu: {message}\n")


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"kehu: {message}", file=sys.stderr)
    raise SystemExit(code)


# --- Commands ----------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from kehu.accounts.models import Role, User
    from kehu.accounts.services import user_create

    if User.objects.filter(is_superuser=True).exists() and not args.force:
        print(_("An administrator already exists; nothing to do."))
        return 0
    password = os.environ.get("KEHU_ADMIN_PASSWORD") or ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    if User.objects.filter(username=args.username).exists():
        fail(_("The username %(name)s is taken.") % {"name": args.username})
    user = user_create(
        actor=None,
        username=args.username,
        password=password,
        name=args.name or args.username,
        email=args.email or "",
        role=Role.objects.filter(code="administrator").first(),
        is_superuser=True,
        is_staff=True,
    )
    print(_("Administrator created: %(name)s") % {"name": user.username})
    if generated:
        print(_("Password (shown once, write it down): %(password)s") % {"password": password})
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from kehu.accounts.models import Department, Role, Team
    from kehu.accounts.services import user_create

    role = Role.objects.filter(code=args.role).first()
    if role is None:
        fail(
            _("Unknown role %(role)s. Known roles: %(roles)s.")
            % {"role": args.role, "roles": ", ".join(Role.objects.values_list("code", flat=True))}
        )
    team = None
    if args.team:
        team = Team.objects.filter(name=args.team).first()
        if team is None:
            fail(_("Unknown team %(team)s.") % {"team": args.team})
    department = None
    if args.department:
        department = Department.objects.filter(code=args.department).first()
        if department is None:
            fail(
                _("Unknown department %(code)s. Known codes: %(codes)s.")
                % {
                    "code": args.department,
                    "codes": ", ".join(Department.objects.values_list("code", flat=True)),
                }
            )
    password = args.password or os.environ.get("KEHU_USER_PASSWORD") or ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    fields: dict[str, Any] = {
        "role": role,
        "team": team,
        "name": args.name or "",
        "email": args.email or "",
        "mobile": args.mobile or "",
    }
    if department is not None or team is not None:
        fields["department"] = department or (team.department if team else None)
    try:
        user = user_create(actor=None, username=args.username, password=password, **fields)
    except ValidationError as exc:
        fail(" ".join(exc.messages))
    print(_("User created: %(name)s") % {"name": user.username})
    if generated:
        print(_("Password (shown once, write it down): %(password)s") % {"password": password})
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from kehu.accounts.models import User
    from kehu.accounts.services import token_create

    user = User.objects.filter(username=args.username).first()
    if user is None:
        fail(_("Unknown user %(name)s.") % {"name": args.username})
    try:
        _token, secret = token_create(actor=None, user=user, name=args.name, days=args.days)
    except ValidationError as exc:
        fail(" ".join(exc.messages))
    print(secret)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from kehu.core.audit import audit_seal, audit_verify

    if args.audit_command == "seal":
        print(_("Sealed %(n)d events.") % {"n": audit_seal(max_batches=1_000_000)})
        return 0
    report = audit_verify()
    if report.ok:
        print(
            _(
                "Audit chain intact: %(checked)d sealed events verified, %(pending)d waiting to be sealed."
            )
            % {"checked": report.checked, "pending": report.unsealed}
        )
        return 0
    print(
        _(
            "Audit chain BROKEN at position %(seq)s (event id %(id)s): %(reason)s. %(checked)d events before it are intact."
        )
        % {
            "seq": report.broken_seq,
            "id": report.broken_event_id or "-",
            "reason": report.reason,
            "checked": report.checked,
        },
        file=sys.stderr,
    )
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from kehu.demo import load_demo

    if args.customers < 0 or any(
        value is not None and value < 0 for value in (args.users, args.orders)
    ):
        fail(_("Sizes cannot be negative."))
    summary = load_demo(
        seed=args.seed,
        users=args.users,
        customers=args.customers,
        orders=args.orders,
        only_if_empty=args.if_empty,
    )
    if summary is None:
        print(_("Demo data is already loaded; nothing to do."))
        return 0
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from kehu.core.backup import BackupError, backup

    try:
        path = backup(Path(args.out) if args.out else None)
    except BackupError as exc:
        fail(str(exc), 1)
    print(_("Backup written to %(path)s") % {"path": path})
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from kehu.core.backup import BackupError, restore

    if not args.yes:
        fail(_("Restoring replaces every row in the database. Stop kehu first, then add --yes."))
    try:
        restore(Path(args.file))
    except BackupError as exc:
        fail(str(exc), 1)
    print(_("Restored from %(path)s") % {"path": args.file})
    return 0


# Filter options of `kehu export customers`: option → list parameter (kehu.customers.filtering).
EXPORT_FILTER_OPTIONS = (
    ("q", "q"),
    ("stage", "stage"),
    ("tier", "tier"),
    ("source", "source"),
    ("tag", "tag"),
    ("province", "province"),
    ("city", "city"),
    ("district", "district"),
    ("created_from", "created_from"),
    ("created_to", "created_to"),
    ("contact_from", "contact_from"),
    ("contact_to", "contact_to"),
    ("sort", "sort"),
)


def cmd_export_customers(args: argparse.Namespace) -> int:
    """Export what USERNAME sees on the customer list, with their masking, to --out."""
    import zoneinfo

    from django.conf import settings
    from django.core.exceptions import ValidationError
    from django.utils import timezone, translation
    from django.utils.translation import gettext as _

    from kehu.accounts.models import Team, User
    from kehu.core.access import AccessDenied, has_perm
    from kehu.core.permissions import Perm
    from kehu.customers.exports import DEFAULT_COLUMNS, customer_export
    from kehu.customers.filtering import parse_filters
    from kehu.customers.masking import can_reveal
    from kehu.customers.selectors import CustomerFilters

    user = User.objects.filter(username=args.as_user).first()
    if user is None or not user.is_active:
        fail(_("Unknown or disabled user %(name)s.") % {"name": args.as_user})
    if not has_perm(user, Perm.EXPORT_CUSTOMERS):
        fail(_("%(name)s may not export customers.") % {"name": user.username})
    if args.reveal and not can_reveal(user):
        fail(_("%(name)s may not see unmasked values.") % {"name": user.username})
    out = Path(args.out)
    if out.is_dir() or not out.parent.is_dir():
        fail(_("Cannot write %(path)s: no such folder.") % {"path": args.out})
    if out.exists() and not args.force:
        fail(_("%(path)s exists; add --force to replace it.") % {"path": args.out})
    params = {param: getattr(args, option) for option, param in EXPORT_FILTER_OPTIONS}
    params = {name: value for name, value in params.items() if value not in (None, "")}
    if args.stale:
        params["stale"] = "1"
    if args.owner:
        owner = User.objects.filter(username=args.owner).first()
        if owner is None:
            fail(_("Unknown user %(name)s.") % {"name": args.owner})
        params["owner"] = str(owner.pk)
    if args.team:
        team = Team.objects.filter(name=args.team).first()
        if team is None:
            fail(_("Unknown team %(team)s.") % {"team": args.team})
        params["team"] = str(team.pk)
    try:
        filters = CustomerFilters(**parse_filters(params))
    except ValidationError as exc:
        fail(
            " ".join(
                f"--{name.replace('_', '-')}: {message}"
                for name, messages in exc.message_dict.items()
                for message in messages
            )
        )
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else []
    language = user.language or translation.get_language()
    zone = zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    try:
        with translation.override(language), timezone.override(zone):
            result = customer_export(
                actor=user,
                filters=filters,
                columns=columns or list(DEFAULT_COLUMNS),
                fmt=args.format,
                reveal=args.reveal,
                directory=str(out.parent),
            )
    except AccessDenied:
        fail(_("%(name)s may not export customers.") % {"name": user.username})
    except ValidationError as exc:
        fail(" ".join(f"--{k}: {m}" for k, ms in exc.message_dict.items() for m in ms))
    os.replace(result.path, out)
    summary = {"rows": result.rows, "out": str(out), "format": result.format}
    print(json.dumps({**summary, "columns": result.columns}, ensure_ascii=False))
    return 0


def _run_file_import(args: argparse.Namespace, kind: str, options: dict[str, str]) -> int:
    """Import FILE as USERNAME in this process (the same job runner as the pages), then
    print a JSON summary. Bad input ends with one line and exit code 2."""
    from django.core.exceptions import ValidationError
    from django.utils import translation
    from django.utils.translation import gettext as _

    from kehu.accounts.models import User
    from kehu.core.access import AccessDenied
    from kehu.dataio import services

    user = User.objects.filter(username=args.as_user).first()
    if user is None or not user.is_active:
        fail(_("Unknown or disabled user %(name)s.") % {"name": args.as_user})
    path = Path(args.file)
    if not path.is_file():
        fail(_("No such file: %(path)s") % {"path": args.file})
    if path.stat().st_size > services.max_bytes():
        fail(services.too_large_message())
    mapping = _mapping_of(args.map or [])

    def chunks() -> Any:
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                yield block

    try:
        job = services.job_create(
            actor=user,
            kind=kind,
            original_name=path.name,
            chunks=chunks(),
            language=translation.get_language(),
        )
        job = services.job_configure(actor=user, job=job, mapping=mapping or None, options=options)
        job = services.job_start(actor=user, job=job, dry_run=args.dry_run, enqueue=False)
    except AccessDenied:
        fail(_("%(name)s may not import this.") % {"name": user.username})
    except ValidationError as exc:
        fail(" ".join(exc.messages))
    services.run_import(job.pk)
    job.refresh_from_db()
    print(json.dumps(services.job_summary(job), ensure_ascii=False))
    return 0 if job.status == "done" else 1


def _mapping_of(pairs: list[str]) -> dict[str, str]:
    """``--map COLUMN=FIELD`` options as {column: field}; an empty FIELD leaves the column
    out. Split at the last ``=`` (field names never hold one)."""
    from django.utils.translation import gettext as _

    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.rpartition("=")
        if not sep or not column.strip():
            fail(
                _("--map takes COLUMN=FIELD, e.g. --map 手机号码=mobile; got %(value)s")
                % {"value": pair}
            )
        mapping[column.strip()] = name.strip()
    return mapping


def cmd_import_customers(args: argparse.Namespace) -> int:
    return _run_file_import(args, "customers", {"on_duplicate": args.on_duplicate})


def cmd_import_orders(args: argparse.Namespace) -> int:
    return _run_file_import(args, "orders", {"unmatched": args.unmatched})


def run_system_checks() -> None:
    """Refuse to start on a failing system check (e.g. a view that declares no permission)."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        fail(str(exc).strip().splitlines()[-1] if str(exc).strip() else "system check failed", 1)


def cmd_worker(args: argparse.Namespace) -> int:
    run_system_checks()
    from django_tasks_db.management.commands.db_worker import Worker

    from kehu.core.scheduler import SchedulerThread

    scheduler = None
    if not args.no_scheduler:
        scheduler = SchedulerThread()
        scheduler.start()
    worker = Worker(
        queue_names=args.queue.split(","),
        interval=args.interval,
        batch=args.batch,
        backend_name="default",
        startup_delay=not args.batch,
        max_tasks=args.max_tasks,
        worker_id=secrets.token_hex(8),
        excluded_queue_names=[],
    )
    if not args.batch:
        worker.configure_signals()
    try:
        worker.run()
    finally:
        if scheduler is not None:
            scheduler.stopped.set()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run gunicorn (and, with --with-worker, one background worker beside it)."""
    run_system_checks()
    worker = None
    if args.with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "kehu", "worker"])
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "kehu.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-",
        "--timeout",
        "60",
    ]
    server = subprocess.Popen(command)

    def stop(signum: int, frame: Any) -> None:
        for process in (server, worker):
            if process is not None and process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = server.wait()
    if worker is not None:
        stop(signal.SIGTERM, None)
        worker.wait(timeout=30)
    return code


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kehu manage", *args.rest])
    return 0


# --- Parser ----------------------------------------------------------------------------


def _add_map_option(parser: argparse.ArgumentParser) -> None:
    from django.utils.translation import gettext as _

    parser.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help=_(
            "Map a column of the file to a field, overriding the guess (repeatable); "
            "COLUMN= leaves the column out. Fields: as on the Import page and in the API."
        ),
    )


def build_parser() -> Parser:
    from django.utils.translation import gettext as _

    parser = Parser(
        prog="kehu",
        description=_("kehu (客户): customer management for small and mid-sized companies."),
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar=_("COMMAND"), parser_class=Parser
    )

    p = sub.add_parser(
        "serve",
        help=_("Serve kehu over HTTP with gunicorn."),
        description=_("Serve kehu over HTTP with gunicorn."),
    )
    p.add_argument("--host", default="127.0.0.1", help=_("Address to listen on."))
    p.add_argument("--port", type=int, default=8000, help=_("Port to listen on."))
    p.add_argument("--workers", type=int, default=2, help=_("Web worker processes."))
    p.add_argument("--threads", type=int, default=4, help=_("Threads per web worker."))
    p.add_argument("--with-worker", action="store_true", help=_("Also run one background worker."))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "worker",
        help=_("Run a background worker (and the periodic scheduler)."),
        description=_("Run a background worker (and the periodic scheduler)."),
    )
    p.add_argument(
        "--queue", default="default", help=_("Queues to take jobs from, comma-separated.")
    )
    p.add_argument(
        "--interval", type=float, default=1.0, help=_("Seconds to wait when the queue is empty.")
    )
    p.add_argument("--batch", action="store_true", help=_("Run what is queued, then stop."))
    p.add_argument("--max-tasks", type=int, default=None, help=_("Stop after this many jobs."))
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help=_("Do not enqueue periodic jobs from this worker."),
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "migrate",
        help=_("Create or update the database tables."),
        description=_("Create or update the database tables."),
    )
    p.add_argument(
        "-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3], help=_("How much to print.")
    )
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "createadmin",
        help=_(
            "Create the first administrator (password from KEHU_ADMIN_PASSWORD, or generated and printed once)."
        ),
        description=_(
            "Create the first administrator (password from KEHU_ADMIN_PASSWORD, or generated and printed once)."
        ),
    )
    p.add_argument("--username", default="admin", help=_("Username of the administrator."))
    p.add_argument("--name", default="", help=_("Full name."))
    p.add_argument("--email", default="", help=_("Email address."))
    p.add_argument(
        "--force", action="store_true", help=_("Create one even if an administrator exists.")
    )
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser(
        "demo",
        help=_("Load believable bilingual demo data."),
        description=_("Load believable bilingual demo data."),
    )
    p.add_argument(
        "--seed", type=int, default=2026, help=_("Random seed: the same seed gives the same data.")
    )
    p.add_argument(
        "--users",
        type=int,
        default=None,
        help=_("How many demo colleagues to create (default: 40, or one per 400 customers)."),
    )
    p.add_argument(
        "--customers", type=int, default=300, help=_("How many demo customers to create.")
    )
    p.add_argument(
        "--orders",
        type=int,
        default=None,
        help=_("How many demo orders to create (default: five per customer)."),
    )
    p.add_argument(
        "--if-empty", action="store_true", help=_("Do nothing if demo data was loaded before.")
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "backup",
        help=_("Write a consistent backup of the database."),
        description=_("Write a consistent backup of the database."),
    )
    p.add_argument("--out", help=_("File to write (default: var/backups/kehu-TIME)."))
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help=_("Replace the database with a backup."),
        description=_("Replace the database with a backup."),
    )
    p.add_argument("file", help=_("The backup file."))
    p.add_argument(
        "--yes", action="store_true", help=_("Confirm that every current row may be replaced.")
    )
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "audit",
        help=_("Seal or verify the audit chain."),
        description=_("Seal or verify the audit chain."),
    )
    audit_sub = p.add_subparsers(
        dest="audit_command", required=True, metavar=_("ACTION"), parser_class=Parser
    )
    audit_sub.add_parser("verify", help=_("Recompute the chain and report the first broken link."))
    audit_sub.add_parser("seal", help=_("Seal pending events now."))
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("user", help=_("Manage users."), description=_("Manage users."))
    user_sub = p.add_subparsers(
        dest="user_command", required=True, metavar=_("ACTION"), parser_class=Parser
    )
    c = user_sub.add_parser("create", help=_("Create a user."), description=_("Create a user."))
    c.add_argument("username", help=_("Username."))
    c.add_argument("--role", required=True, help=_("Role code, e.g. sales."))
    c.add_argument("--team", help=_("Team name."))
    c.add_argument("--department", help=_("Department code, e.g. sales."))
    c.add_argument(
        "--password",
        help=_("Password (default: KEHU_USER_PASSWORD, or generated and printed once)."),
    )
    c.add_argument("--name", help=_("Full name."))
    c.add_argument("--email", help=_("Email address."))
    c.add_argument("--mobile", help=_("Mobile number."))
    c.set_defaults(func=cmd_user_create)

    p = sub.add_parser("token", help=_("Manage API tokens."), description=_("Manage API tokens."))
    token_sub = p.add_subparsers(
        dest="token_command", required=True, metavar=_("ACTION"), parser_class=Parser
    )
    c = token_sub.add_parser(
        "create",
        help=_("Create an API token and print it once."),
        description=_("Create an API token and print it once."),
    )
    c.add_argument("username", help=_("Username."))
    c.add_argument("--name", default="cli", help=_("Token name."))
    c.add_argument(
        "--days",
        type=int,
        default=None,
        help=_("Days until it expires (0: never; default: KEHU_TOKEN_DEFAULT_DAYS)."),
    )
    c.set_defaults(func=cmd_token_create)

    p = sub.add_parser(
        "export",
        help=_("Export data to CSV or XLSX."),
        description=_("Export data to CSV or XLSX."),
    )
    export_sub = p.add_subparsers(
        dest="export_command", required=True, metavar=_("WHAT"), parser_class=Parser
    )
    c = export_sub.add_parser(
        "customers",
        help=_("Export the customer list a user sees, with that user's masking."),
        description=_("Export the customer list a user sees, with that user's masking."),
    )
    c.add_argument("--format", required=True, choices=["csv", "xlsx"], help=_("File format."))
    c.add_argument("--out", required=True, help=_("File to write."))
    c.add_argument(
        "--as", dest="as_user", required=True, metavar="USERNAME", help=_("Export as this user.")
    )
    c.add_argument(
        "--columns",
        help=_("Columns, comma-separated (default: name, company, mobile, email, city, …)."),
    )
    c.add_argument("--reveal", action="store_true", help=_("Unmasked values (audited)."))
    c.add_argument("--force", action="store_true", help=_("Replace the file if it exists."))
    c.add_argument("--q", help=_("Search text, as in the search box."))
    c.add_argument("--owner", metavar="USERNAME", help=_("Owner's username."))
    c.add_argument("--team", help=_("Team name."))
    c.add_argument("--stage", help=_("Lifecycle stage code, e.g. active."))
    c.add_argument("--tier", help=_("Tier code: key, ordinary or small."))
    c.add_argument("--source", help=_("Source code, e.g. referral."))
    c.add_argument("--tag", help=_("Tag name."))
    c.add_argument("--province", help=_("Province."))
    c.add_argument("--city", help=_("City."))
    c.add_argument("--district", help=_("District."))
    c.add_argument("--created-from", metavar="YYYY-MM-DD", help=_("Created on or after."))
    c.add_argument("--created-to", metavar="YYYY-MM-DD", help=_("Created on or before."))
    c.add_argument("--contact-from", metavar="YYYY-MM-DD", help=_("Last contact on or after."))
    c.add_argument("--contact-to", metavar="YYYY-MM-DD", help=_("Last contact on or before."))
    c.add_argument("--stale", action="store_true", help=_("Only records to verify."))
    c.add_argument("--sort", help=_("Sort, e.g. -updated, name, -last_contact."))
    c.set_defaults(func=cmd_export_customers)

    p = sub.add_parser(
        "import",
        help=_("Import data from a CSV, XLSX or vCard file."),
        description=_("Import data from a CSV, XLSX or vCard file."),
    )
    import_sub = p.add_subparsers(
        dest="import_command", required=True, metavar=_("WHAT"), parser_class=Parser
    )
    c = import_sub.add_parser(
        "customers",
        help=_("Import customers (.csv, .xlsx or .vcf); prints a JSON summary."),
        description=_("Import customers (.csv, .xlsx or .vcf); prints a JSON summary."),
    )
    c.add_argument("file", metavar="FILE", help=_("A .csv, .xlsx or .vcf file."))
    c.add_argument(
        "--as", dest="as_user", required=True, metavar="USERNAME", help=_("Import as this user.")
    )
    c.add_argument("--dry-run", action="store_true", help=_("Check every row; write nothing."))
    _add_map_option(c)
    c.add_argument(
        "--on-duplicate",
        choices=["skip", "update", "create"],
        default="skip",
        help=_("What to do with a row that matches an existing customer (default: skip)."),
    )
    c.set_defaults(func=cmd_import_customers)
    c = import_sub.add_parser(
        "orders",
        help=_("Import historical orders (.csv or .xlsx); prints a JSON summary."),
        description=_("Import historical orders (.csv or .xlsx); prints a JSON summary."),
    )
    c.add_argument("file", metavar="FILE", help=_("A .csv or .xlsx file."))
    c.add_argument(
        "--as", dest="as_user", required=True, metavar="USERNAME", help=_("Import as this user.")
    )
    c.add_argument("--dry-run", action="store_true", help=_("Check every row; write nothing."))
    _add_map_option(c)
    c.add_argument(
        "--unmatched",
        choices=["anonymous", "reject"],
        default="anonymous",
        help=_(
            "What to do with a row whose customer is not found: record an anonymous "
            "consumer's order (default) or reject the row."
        ),
    )
    c.set_defaults(func=cmd_import_orders)

    p = sub.add_parser(
        "manage",
        help=_("Run any Django management command."),
        description=_("Run any Django management command."),
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    _setup()
    parser = build_parser()
    args = parser.parse_args(argv)
    from django.core.exceptions import ValidationError
    from django.db import DatabaseError

    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:
        fail(" ".join(exc.messages))
    except DatabaseError as exc:
        fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 1)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
