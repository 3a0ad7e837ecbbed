"""Helpers for text stored in three languages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class TrilingualNameMixin(models.Model):
    """A name kept in English, Simplified and Traditional Chinese; shown in the reader's."""

    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=100)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return in_reader_language(self.name_en, self.name_zh_hans, self.name_zh_hant)


def in_reader_language(en: str, zh_hans: str, zh_hant: str) -> str:
    """Of a text kept in three languages, the one for the current reader (with fallbacks)."""
    language = (get_language() or "zh-hans").lower()
    if language.startswith("zh-hant") or language in {"zh-tw", "zh-hk", "zh-mo"}:
        return zh_hant or zh_hans or en
    if language.startswith("zh"):
        return zh_hans or zh_hant or en
    return en or zh_hans
