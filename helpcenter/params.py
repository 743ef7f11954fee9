"""Whole numbers read from a request (a query string or a posted form), read the one way: as a form's IntegerField
reads one, within bounds.

Views read them with `str.isdigit()` and `int()` before: `"²".isdigit()` is true but `int("²")` refuses it, and
`int()` refuses a string of more than 4,300 digits, so both were a 500. What a value that is not a number means is
the caller's to say: a 404 where it names a thing (`optional_number`), a form error where a form posted it, the
default where it is a limit or a cursor.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict

LARGEST = 2**31 - 1  # a database integer: no number a request names is larger


def number(value: str | None, *, lowest: int = 0, highest: int = LARGEST) -> int | None:
    """The whole number `value` holds if it is one from `lowest` to `highest`; None for anything else (missing,
    empty, not a whole number, out of bounds)."""
    try:
        return forms.IntegerField(min_value=lowest, max_value=highest, required=False).clean(value)
    except ValidationError:
        return None


def optional_number(params: QueryDict, name: str, *, lowest: int = 0, highest: int = LARGEST) -> int | None:
    """The number `params[name]` names: None when it is absent or empty, a 404 when it is not a number in bounds."""
    text = params.get(name, "")
    if not text:
        return None
    found = number(text, lowest=lowest, highest=highest)
    if found is None:
        raise Http404(f"{name} must be a whole number from {lowest} to {highest}.")
    return found
