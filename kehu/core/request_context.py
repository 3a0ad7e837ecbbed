"""Who is asking, from where: kept per request (or per task) for the audit log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip: str | None = None
    user_agent: str = ""


_NOBODY = RequestInfo()
_current: ContextVar[RequestInfo | None] = ContextVar("kehu_request_info", default=None)


def current_request_info() -> RequestInfo:
    return _current.get() or _NOBODY


def set_request_info(info: RequestInfo):
    return _current.set(info)


def reset_request_info(token) -> None:
    _current.reset(token)
