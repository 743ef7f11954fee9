"""Field rules written once: the model fields use them, and so do the admin, the seller's forms and the content
files (which run each value through its model field's validators)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models

# Control characters (tabs, line breaks, NUL, escape...) and the Unicode line and paragraph separators.
LINE_BREAKING = {"Cc", "Zl", "Zp"}


def single_line(value: str) -> None:
    """Refuse text that would break a heading, a button or an email header (a title with CR/LF did)."""
    if any(unicodedata.category(char) in LINE_BREAKING for char in value):
        raise ValidationError(
            "Keep this to one line, without tabs, line breaks or other control characters.",
            code="single_line",
        )


def lines(value: str) -> None:
    """Text that is a list of lines (a checker's error texts): each line follows `single_line`."""
    for line in value.splitlines():
        single_line(line)


class LineField(models.CharField):
    """One line of text: a title, a label, a question."""

    default_validators = [single_line]


class WebURLField(models.URLField):
    """An http(s) URL; forms assume https when the scheme is left out (Django 6's default, chosen now)."""

    default_validators = [URLValidator(schemes=["http", "https"])]

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


error_code_format = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z",
    "Letters, digits, dots, dashes and underscores only (for example XC-001).",
)
