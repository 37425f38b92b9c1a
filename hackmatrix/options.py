"""One validation mechanism for every setting: config keys, health thresholds and sink options.

An `Option` holds a setting's accepted types, default, one-line doc and allowed values (bounds,
choices, list items, a rule). `Option.parse` turns a value read from YAML into the setting's type
or raises a one-line ConfigError naming the setting, the value, what is allowed and the default.
Config sections declare their fields with `setting(...)` and derive from `Checked`, so a section
is checked once, on construction, wherever it is built (config file, override, resume, tests).
"""

import dataclasses
import math
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from hackmatrix.errors import ConfigError

# Limits shared by many settings. Step counters, indices and PRNG seeds live on the device as
# 32-bit integers (JAX without x64), so counts that reach the device must fit in int32 and seeds
# in uint32 (PRNGKey keeps only the low 32 bits: seeds 0 and 2**32 would be the same run).
INT32_MAX = 2**31 - 1
SEED_MAX = 2**32 - 1
# A refused value is quoted in its message shortened, so the message stays one readable line.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 4, 3, 40, 40
_SHOWN_CHARS = 80
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a mapping", list: "a list", tuple: "a list", type(None): "null"}


def shown(value: Any) -> str:
    """A value as one short printable line, as YAML spells it (lists, null, true/false)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    try:
        # reprlib bounds the work too: a YAML alias bomb is a small object with a huge repr.
        text = _REPR.repr(list(value) if isinstance(value, tuple) else value)
    except ValueError:  # an integer of more than 4300 digits has no repr
        return "a number too long to show"
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _number(bound: float) -> str:
    """A bound as people write it (1 rather than 1.0, 3.4e+38 rather than 34 digits)."""
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


@dataclass(frozen=True)
class Option:
    """One setting: accepted types, default, one-line doc and the values allowed.

    low/high bound numbers (inclusive; `open_low` excludes low); `choices` lists the values
    allowed; `items` is the Option of each element of a list, `min_items`/`max_items` bound its
    length; `rule` is an extra (predicate, what it allows) that replaces the generated words.
    """

    types: tuple[type, ...]
    default: Any
    doc: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    items: "Option | None" = None
    min_items: int = 1
    max_items: int | None = None
    rule: tuple[Callable[[Any], bool], str] | None = None

    def allowed(self) -> str:
        """What the setting accepts, in words (e.g. 'an integer in [1, 10000]')."""
        if self.choices is not None:
            return f"one of {', '.join(map(str, self.choices))}"
        if self.rule is not None:
            return self.rule[1]
        return " or ".join(self._allowed_as(t) for t in dict.fromkeys(self.types))

    def _allowed_as(self, kind: type) -> str:
        if kind in (list, tuple) and self.items is not None:
            count = (f"{self.min_items} to {self.max_items} " if self.max_items
                     else "one or more " if self.min_items else "")
            noun, _, rest = self.items.allowed().removeprefix("an ").removeprefix("a ").partition(" ")
            return f"a list of {count}{noun}s {rest}".rstrip()
        name = _TYPE_NAMES.get(kind, kind.__name__)
        if kind not in (int, float) or (self.low is None and self.high is None):
            return name
        if self.high is None:
            return f"{name} {'>' if self.open_low else '>='} {_number(self.low)}"
        if self.low is None:
            return f"{name} <= {_number(self.high)}"
        return f"{name} in {'(' if self.open_low else '['}{_number(self.low)}, {_number(self.high)}]"

    def parse(self, value: Any, name: str) -> Any:
        """Return `value` as this setting's type, or raise a one-line ConfigError naming `name`."""
        converted = self.fit(value)
        if converted is _REFUSED:
            raise ConfigError(f"{name} must be {self.allowed()}, got {shown(value)} "
                              f"(the default is {shown(self.default)})")
        return converted

    def fit(self, value: Any) -> Any:
        """`value` as the first accepted type that meets every limit, or _REFUSED."""
        for kind in self.types:
            converted = _convert(kind, value)
            if converted is not _REFUSED and self.items is not None and kind in (list, tuple):
                converted = self._fit_items(kind, converted)
            if converted is not _REFUSED and self._within(converted):
                return converted
        return _REFUSED

    def _fit_items(self, kind: type, values: Any) -> Any:
        """A list of allowed length whose every item fits `items`, as `kind`, or _REFUSED."""
        if len(values) < self.min_items or len(values) > (self.max_items or len(values)):
            return _REFUSED
        items = [self.items.fit(v) for v in values]
        return _REFUSED if any(v is _REFUSED for v in items) else kind(items)

    def _within(self, value: Any) -> bool:
        """Whether a converted value meets the bounds, choices and rule."""
        if self.choices is not None and value not in self.choices:
            return False
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.low is not None and (value <= self.low if self.open_low else value < self.low):
                return False
            if self.high is not None and value > self.high:
                return False
        return self.rule is None or bool(self.rule[0](value))


_REFUSED = object()


def _convert(kind: type, value: Any) -> Any:
    """`value` as `kind` (YAML's spellings of numbers included), or _REFUSED."""
    if kind is bool or isinstance(value, bool):
        return value if kind is bool and isinstance(value, bool) else _REFUSED
    if kind is type(None):
        return None if value is None else _REFUSED
    if kind in (int, float):
        return _to_number(kind, value)
    if kind in (list, tuple):
        return kind(value) if isinstance(value, list | tuple) else _REFUSED
    return value if isinstance(value, kind) else _REFUSED


def _to_number(kind: type, value: Any) -> Any:
    """An int or float from an int, float or numeric string (YAML 1.1 reads 1e-4 as a string)."""
    if isinstance(value, int):
        # Exact for int: going through float would round integers above 2**53.
        if kind is int:
            return value
        try:
            return float(value)
        except OverflowError:
            return _REFUSED
    if not isinstance(value, float | str):
        return _REFUSED
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return _REFUSED
    if not math.isfinite(number):
        return _REFUSED
    if kind is float:
        return number
    return int(number) if number == int(number) else _REFUSED


def setting(default: Any, doc: str, types: tuple[type, ...] | None = None, **limits: Any):
    """A dataclass field whose Option (types from the default unless given) sits in its metadata."""
    kinds = types or (type(default),)
    option = Option(kinds, default, doc, **limits)
    return dataclasses.field(default=default, metadata={"option": option})


def option_of(field: dataclasses.Field) -> Option | None:
    """The Option of a dataclass field declared with `setting` (None for other fields)."""
    return field.metadata.get("option")


class Checked:
    """Base of frozen dataclasses declared with `setting`: every field is parsed on construction.

    SECTION is the dotted prefix of the fields' keys in config.yaml (e.g. "metrics.health").
    """

    SECTION: ClassVar[str] = ""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            option = option_of(field)
            if option is not None:
                key = f"config key '{self.SECTION}.{field.name}'"
                object.__setattr__(self, field.name, option.parse(getattr(self, field.name), key))
