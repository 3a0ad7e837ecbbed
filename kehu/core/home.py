"""The home page's figures. Each app registers a provider; every figure is a real count
within what the viewer may see, never a placeholder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class HomeCard:
    key: str
    label: str | Promise
    value: int | str  # a count, or a figure already formatted (an amount)
    url: str = ""


Provider = Callable[[Any], list[HomeCard]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def home_cards(user: Any) -> list[HomeCard]:
    cards: list[HomeCard] = []
    for provider in _providers:
        cards.extend(provider(user))
    return cards
