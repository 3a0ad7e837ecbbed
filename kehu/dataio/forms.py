"""Forms of the import pages: the upload, and the column mapping with the options."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.dataio import registry
from kehu.dataio.models import ImportJob


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK), Excel .xlsx or vCard .vcf."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.vcf"}),
    )

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, registry.get(k).label) for k in kinds]
        self.fields["kind"].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs["class"] = "form-control"


class MappingForm(forms.Form):
    """One select per column of the file (``col_<n>``), then the importer's options."""

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        importer = registry.get(job.kind)
        choices = [("", _("— ignore this column —"))] + [
            (f.name, f"{f.label} *" if f.required else f.label) for f in importer.fields
        ]
        self.columns: list[tuple[str, str]] = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=job.mapping.get(header, ""),
                widget=forms.Select(attrs={"class": "form-select", "data-column": header}),
            )
            self.columns.append((name, header))
        for option in importer.options:
            self.fields[f"opt_{option.name}"] = forms.ChoiceField(
                label=option.label,
                choices=option.choices,
                initial=job.options.get(option.name, option.default),
                widget=forms.Select(attrs={"class": "form-select"}),
            )

    def column_fields(self) -> list[Any]:
        return [self[name] for name, _header in self.columns]

    def option_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("opt_")]

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(name) or "" for name, header in self.columns}

    def options(self) -> dict[str, str]:
        return {
            name[4:]: value for name, value in self.cleaned_data.items() if name.startswith("opt_")
        }
