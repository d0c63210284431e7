"""Checking a command's input: a small schema per command, clear 400s for anything else."""

from __future__ import annotations

from dataclasses import dataclass

from ..basics.clock import now_ms, parse_iso
from ..basics.errors import Invalid

# The longest name of each kind, the same whichever way it comes in: a command's field or a
# site file (site_config.check).
PERSON_NAME = 100  # a staff member's or a visitor's
PLACE_NAME = 200  # a site's, a zone's, an exit's, an assembly point's and where it is


@dataclass(frozen=True)
class Field:
    """One input field. `kind` is text, bool, int, time (ISO 8601 -> ms), choice, list
    (a list of short texts) or object (checked by the command itself)."""

    kind: str = "text"
    required: bool = False
    choices: tuple = ()
    max_length: int = 500
    default: object = None
    future: bool = False  # a time that must not lie in the past (an estimated reopening)


def check(schema: dict[str, Field], body, one_of: tuple[str, ...] = ()) -> dict:
    """Return the cleaned parameters, or raise Invalid naming the first bad field. Of the
    fields `one_of` names, exactly one must be given."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    unknown = sorted(set(body) - set(schema))
    if unknown:
        raise Invalid(f"Unknown field: {', '.join(unknown)}.", field=unknown[0])
    params = {name: _check_one(name, field, body.get(name)) for name, field in schema.items()}
    if one_of and sum(params[name] is not None for name in one_of) != 1:
        names = " or ".join(f"'{name}'" for name in one_of)
        raise Invalid(f"Give exactly one of {names}.", field=one_of[0])
    return params


def _check_one(name: str, field: Field, value):
    if value is None:
        if field.required:
            raise Invalid(f"'{name}' is required.", field=name)
        return field.default
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise Invalid(f"'{name}' must be true or false.", field=name)
        return value
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(f"'{name}' must be a positive whole number.", field=name)
        return value
    if field.kind == "object":
        if not isinstance(value, dict):
            raise Invalid(f"'{name}' must be a JSON object.", field=name)
        return value
    if field.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise Invalid(f"'{name}' must be a list of non-empty strings.", field=name)
        if any(len(v) > field.max_length for v in value):
            raise Invalid(
                f"'{name}' has an entry longer than {field.max_length} characters.", field=name
            )
        return [v.strip() for v in value]
    if not isinstance(value, str):
        raise Invalid(f"'{name}' must be a string.", field=name)
    value = value.strip()
    if field.kind == "choice":
        if value not in field.choices:
            raise Invalid(f"'{name}' must be one of: {', '.join(field.choices)}.", field=name)
        return value
    if field.kind == "time":
        try:
            moment = parse_iso(value)
        except ValueError:
            raise Invalid(
                f"'{name}' must be an ISO 8601 time with a time zone.", field=name
            ) from None
        if field.future and moment < now_ms() - 60_000:
            raise Invalid(f"'{name}' lies in the past.", field=name)
        return moment
    if field.required and not value:
        raise Invalid(f"'{name}' must not be empty.", field=name)
    if len(value) > field.max_length:
        raise Invalid(f"'{name}' is longer than {field.max_length} characters.", field=name)
    return value or field.default
