"""The identity tables: data files under ``matcalc/data/tables/``, loaded and validated.

The files ship inside the package (wheel and sdist) and are read through
:mod:`importlib.resources`, so an installed copy finds them wherever it lives.

One TOML file per section. A file has a ``[section]`` table and a list of
``[[entry]]`` tables; every entry names its ``source`` and is checked, both
symbolically and numerically, by :mod:`matcalc.tablecheck`::

    [section]
    id = "notes-3.1"             # stable, unique
    order = 10                   # position in the cheat sheet
    title = "Scalar by vector"   # and title_zh; optional intro, intro_zh
    source = "notes/001_b573de6bba05d293.txt §3.1"

    [[entry]]
    id = "sum"                   # unique within the section
    source = "notes 001 §3.1 table"
    vars = { x = "n" }           # as for verify(); optional assume = { A = ["spd"] }
    f = "sum(x)"
    wrt = "x"
    numerator = "ones(n).T"      # the claimed derivative in each layout
    denominator = "ones(n)"
    note = "..."                 # optional, and note_zh

Other keys an entry may have:

* ``vec`` / ``mixed``: claims in those layouts; a derivative that is a 3- or
  4-d tensor in numerator layout is stated in ``vec`` with ``shape`` giving the
  numerator and denominator shapes (``shape = { numerator = "m k n",
  denominator = "n k m" }``);
* ``[[entry.instance]]``: the entry is a *rule* over placeholder functions
  (``f = "a * u"``, ``numerator = "a * d(u)/d(x)"``); each instance gives
  expressions for the placeholders (``u = "exp(x)"``) and any variables they
  add (``vars = { B = "n n" }``), and every instance is checked;
* ``[entry.kink]``: ``at = { s = 0 }`` and ``subdifferential = [-1, 1]``: at
  the kink the value autograd picks must lie in the subdifferential (``values``
  = ``"all"`` entries of the derivative, or the ``"diagonal"`` with zeros off it);
* ``[[entry.pitfall]]``: a published wrong form, ``claim`` in ``layout`` (with its
  ``source`` and ``why``), which must *not* hold; its ``assume``, if given,
  replaces the entry's (a formula used without its symmetry assumption), and its
  ``correct``, if given, is the form that holds under them (it is checked too);
* ``[entry.accumulation]``: ``forward`` and ``reverse``, the numerator-layout
  derivative written as the two association orders of the chain rule's product
  of Jacobians; both must hold, and the sheet states each order's cost.

Every text a reader sees has a Chinese twin (``title_zh``, ``source_zh``,
``note_zh``, ``why_zh``, ...) for the Chinese sheet.

Two more kinds of record live beside the entries (see :mod:`matcalc.records`):
``[[autograd]]``, a PyTorch computation whose ``.grad`` is compared with a
claimed formula, and ``[[erratum]]``, a slip in a source, with the evidence
that shows it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from importlib.resources.abc import Traversable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from .errors import MatcalcError, TableError
from .layout import LAYOUTS
from .tomlfields import (
    assume_field,
    check_keys,
    list_field,
    table_field,
    text_field,
    text_mapping,
)

if TYPE_CHECKING:
    from .records import AutogradExample, Erratum

    Record = Union["Entry", AutogradExample, Erratum]

#: Where the packaged tables live, as a package-relative resource path.
TABLES_RESOURCE = "data/tables"

_SECTION_KEYS = {"id", "order", "title", "title_zh", "source", "source_zh", "intro",
                 "intro_zh"}
_ENTRY_KEYS = {"id", "source", "source_zh", "vars", "assume", "f", "wrt", "note", "note_zh",
               "shape", "instance", "kink", "pitfall", "accumulation", *LAYOUTS}
_INSTANCE_KEYS = {"vars", "assume"}
_KINK_KEYS = {"at", "subdifferential", "values"}
_PITFALL_KEYS = {"claim", "layout", "source", "source_zh", "why", "why_zh", "assume", "correct"}
_ACCUMULATION_KEYS = {"forward", "reverse"}
PLACEHOLDERS = ("u", "v")


@dataclass(frozen=True)
class Instance:
    """Expressions for a rule's placeholders, with the variables they add."""

    macros: tuple[tuple[str, str], ...]
    vars: tuple[tuple[str, str], ...] = ()
    assume: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def label(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in self.macros)


@dataclass(frozen=True)
class Kink:
    at: tuple[tuple[str, Fraction], ...]
    low: Fraction
    high: Fraction
    values: str = "all"  # all | diagonal


@dataclass(frozen=True)
class Pitfall:
    claim: str
    layout: str
    source: str
    why: str
    why_zh: str = ""
    assume: tuple[tuple[str, tuple[str, ...]], ...] = ()
    source_zh: str = ""
    correct: str = ""  # the correct form under the pitfall's assumptions (must hold)


@dataclass(frozen=True)
class Entry:
    section: str
    id: str
    source: str
    f: str
    wrt: str
    vars: tuple[tuple[str, str], ...]
    assume: tuple[tuple[str, tuple[str, ...]], ...] = ()
    claims: tuple[tuple[str, str], ...] = ()  # (layout, claim)
    shape: tuple[tuple[str, str], ...] = ()  # (layout, expected shape) for tensor results
    instances: tuple[Instance, ...] = ()
    kink: Kink | None = None
    pitfalls: tuple[Pitfall, ...] = ()
    note: str = ""
    note_zh: str = ""
    file: str = ""
    source_zh: str = ""
    accumulation: tuple[tuple[str, str], ...] = ()  # (order, numerator-layout claim)

    @property
    def key(self) -> str:
        return f"{self.section}/{self.id}"

    @property
    def claim_map(self) -> dict[str, str]:
        return dict(self.claims)

    @property
    def is_rule(self) -> bool:
        return bool(self.instances)

    def identity(self, layout: str) -> str:
        return f"d({self.f})/d({self.wrt}) = {self.claim_map[layout]}"


@dataclass(frozen=True)
class Section:
    id: str
    order: int
    title: str
    title_zh: str
    source: str
    entries: tuple[Entry, ...]
    intro: str = ""
    intro_zh: str = ""
    file: str = ""
    source_zh: str = ""
    autograd: tuple[AutogradExample, ...] = ()
    errata: tuple[Erratum, ...] = ()

    @property
    def records(self) -> tuple[Record, ...]:
        return (*self.entries, *self.autograd, *self.errata)


@dataclass(frozen=True)
class Tables:
    """All sections, in cheat-sheet order; iterating yields every record
    (identity entries, autograd examples, errata), each checked by ``matcalc check``."""

    sections: tuple[Section, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Record]:
        for section in self.sections:
            yield from section.records

    def __len__(self) -> int:
        return sum(len(s.records) for s in self.sections)

    def __getitem__(self, key: str) -> Record:
        for entry in self:
            if entry.key == key:
                return entry
        raise KeyError(key)

    def identities(self) -> list[Entry]:
        """The identity entries only (what ``derive`` can be asked about)."""
        return [e for s in self.sections for e in s.entries]


def tables_root() -> Traversable:
    """The packaged table directory (a resource, not necessarily a file-system path)."""
    return resources.files("matcalc").joinpath(*TABLES_RESOURCE.split("/"))


def default_files() -> list[Traversable]:
    """The packaged table files, sorted by name."""
    return sorted((item for item in tables_root().iterdir()
                   if item.is_file() and item.name.endswith(".toml")),
                  key=lambda item: item.name)


def table_text(name: str) -> str:
    """The text of one packaged table file, e.g. ``table_text("deep_learning.toml")``."""
    item = tables_root().joinpath(name)
    if not item.is_file():
        raise TableError(f"no packaged table file '{name}'")
    return item.read_text(encoding="utf-8")


def load_tables(paths: Sequence[str | Path] | None = None) -> Tables:
    """Load and validate table files (all the packaged tables by default).

    >>> tables = load_tables()
    >>> tables["notes-3.1/sum"].claim_map["numerator"]
    'ones(n).T'
    """
    if paths is not None and (isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence)
                              or not all(isinstance(p, (str, PathLike)) for p in paths)):
        raise TableError(f"paths must be a list of table file paths, not {paths!r}",
                         token=repr(paths)[:40])
    files: list[Path] | list[Traversable] = [Path(p) for p in paths] if paths else default_files()
    if not files:
        raise TableError(f"no table files found in the package ({TABLES_RESOURCE})")
    sections = [load_section(path) for path in files]
    seen: dict[str, str] = {}
    for section in sections:
        if section.id in seen:
            raise TableError(f"{section.file}: section id '{section.id}' is also used in "
                             f"{seen[section.id]}")
        seen[section.id] = section.file
    return Tables(tuple(sorted(sections, key=lambda s: (s.order, s.id))))


def load_section(path: Path | Traversable) -> Section:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TableError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise TableError(f"{path}: not valid TOML: {error}") from None
    where = str(path)
    head = table_field(data.get("section"), where, "[section]")
    check_keys(head, _SECTION_KEYS, where, "[section]")
    section_id = text_field(head, "id", where, "[section]")
    from .records import load_autograd, load_erratum

    entries_data = data.get("entry", [])
    kinds = ("entry", "autograd", "erratum")
    if not any(isinstance(data.get(k), list) and data.get(k) for k in kinds):
        raise TableError(f"{where}: no [[entry]], [[autograd]] or [[erratum]] tables")
    extra = set(data) - {"section", *kinds}
    if extra:
        raise TableError(f"{where}: unknown top-level key '{sorted(extra)[0]}'")
    entries, autograd, errata = [], [], []
    ids: set[str] = set()
    for kind, out, build in (("entry", entries, _entry), ("autograd", autograd, load_autograd),
                             ("erratum", errata, load_erratum)):
        for index, raw in enumerate(list_field(data.get(kind, []), where, "the file", kind)):
            record = build(table_field(raw, where, f"{kind} #{index + 1}"), section_id, where, index)
            if record.id in ids:
                raise TableError(f"{where}: entry id '{record.id}' is used twice")
            ids.add(record.id)
            out.append(record)
    order = head.get("order", 1000)
    if not isinstance(order, int):
        raise TableError(f"{where}: [section] field 'order' must be an integer")
    return Section(
        id=section_id,
        order=order,
        title=text_field(head, "title", where, "[section]"),
        title_zh=text_field(head, "title_zh", where, "[section]", default=""),
        source=text_field(head, "source", where, "[section]"),
        entries=tuple(entries),
        intro=text_field(head, "intro", where, "[section]", default=""),
        intro_zh=text_field(head, "intro_zh", where, "[section]", default=""),
        file=where,
        source_zh=text_field(head, "source_zh", where, "[section]", default=""),
        autograd=tuple(autograd),
        errata=tuple(errata),
    )


def _entry(raw: dict[str, Any], section: str, where: str, index: int) -> Entry:
    label = f"entry #{index + 1}"
    entry_id = text_field(raw, "id", where, label)
    label = f"entry '{entry_id}'"
    check_keys(raw, _ENTRY_KEYS, where, label)
    source = text_field(raw, "source", where, label)
    f = text_field(raw, "f", where, label)
    wrt = text_field(raw, "wrt", where, label)
    claims = tuple((layout, text_field(raw, layout, where, label)) for layout in LAYOUTS
                   if layout in raw)
    shape = tuple(text_mapping(raw.get("shape", {}), where, label, "shape").items())
    layouts = {layout for layout, _ in claims}
    if not ({"numerator", "denominator"} <= layouts or ("vec" in layouts and shape)):
        raise TableError(f"{where}: {label}: needs 'numerator' and 'denominator' claims "
                         "(or, for a tensor-valued derivative, 'vec' and 'shape')")
    for layout, _ in shape:
        if layout not in ("numerator", "denominator"):
            raise TableError(f"{where}: {label}: field 'shape' has unknown layout '{layout}'")
    vars_ = text_mapping(raw.get("vars"), where, label, "vars")
    instances = tuple(_instance(i, where, label, n)
                      for n, i in enumerate(list_field(raw.get("instance", []), where, label,
                                                  "instance")))
    kink = _kink(raw["kink"], where, label) if "kink" in raw else None
    pitfalls = tuple(_pitfall(p, where, label)
                     for p in list_field(raw.get("pitfall", []), where, label, "pitfall"))
    accumulation: tuple[tuple[str, str], ...] = ()
    if "accumulation" in raw:
        orders = table_field(raw["accumulation"], where, f"{label}: accumulation")
        check_keys(orders, _ACCUMULATION_KEYS, where, f"{label}: accumulation")
        accumulation = tuple((name, text_field(orders, name, where, f"{label}: accumulation"))
                             for name in ("forward", "reverse"))
    return Entry(
        section=section,
        id=entry_id,
        source=source,
        f=f,
        wrt=wrt,
        vars=tuple(vars_.items()),
        assume=assume_field(raw.get("assume", {}), where, label),
        claims=claims,
        shape=shape,
        instances=instances,
        kink=kink,
        pitfalls=pitfalls,
        note=text_field(raw, "note", where, label, default=""),
        note_zh=text_field(raw, "note_zh", where, label, default=""),
        file=where,
        source_zh=text_field(raw, "source_zh", where, label, default=""),
        accumulation=accumulation,
    )


def _instance(raw: Any, where: str, label: str, index: int) -> Instance:
    raw = table_field(raw, where, f"{label}: instance #{index + 1}")
    macros = {k: v for k, v in raw.items() if k not in _INSTANCE_KEYS}
    unknown = set(macros) - set(PLACEHOLDERS)
    if unknown:
        raise TableError(f"{where}: {label}: instance #{index + 1}: unknown field "
                         f"'{sorted(unknown)[0]}' (placeholders are {', '.join(PLACEHOLDERS)})")
    checked = text_mapping(macros, where, label, f"instance #{index + 1}")
    return Instance(
        tuple(checked.items()),
        tuple(text_mapping(raw.get("vars", {}), where, label, "instance vars").items()),
        assume_field(raw.get("assume", {}), where, label),
    )


def _kink(raw: Any, where: str, label: str) -> Kink:
    raw = table_field(raw, where, f"{label}: kink")
    check_keys(raw, _KINK_KEYS, where, f"{label}: kink")
    at = table_field(raw.get("at"), where, f"{label}: kink.at")
    interval = raw.get("subdifferential")
    if (not isinstance(interval, list) or len(interval) != 2
            or not all(isinstance(v, (int, float)) for v in interval)):
        raise TableError(f"{where}: {label}: kink.subdifferential must be [low, high]")
    values = raw.get("values", "all")
    if values not in ("all", "diagonal"):
        raise TableError(f"{where}: {label}: kink.values must be 'all' or 'diagonal'")
    for name, value in at.items():
        if not isinstance(value, (int, float)):
            raise TableError(f"{where}: {label}: kink.at.{name} must be a number")
    return Kink(tuple((k, Fraction(str(v))) for k, v in at.items()),
                Fraction(str(interval[0])), Fraction(str(interval[1])), values)


def _pitfall(raw: Any, where: str, label: str) -> Pitfall:
    raw = table_field(raw, where, f"{label}: pitfall")
    check_keys(raw, _PITFALL_KEYS, where, f"{label}: pitfall")
    layout = text_field(raw, "layout", where, f"{label}: pitfall")
    if layout not in LAYOUTS:
        raise TableError(f"{where}: {label}: pitfall layout '{layout}' is not one of "
                         f"{', '.join(LAYOUTS)}")
    return Pitfall(
        claim=text_field(raw, "claim", where, f"{label}: pitfall"),
        layout=layout,
        source=text_field(raw, "source", where, f"{label}: pitfall"),
        why=text_field(raw, "why", where, f"{label}: pitfall"),
        why_zh=text_field(raw, "why_zh", where, f"{label}: pitfall", default=""),
        assume=assume_field(raw.get("assume", {}), where, f"{label}: pitfall"),
        source_zh=text_field(raw, "source_zh", where, f"{label}: pitfall", default=""),
        correct=text_field(raw, "correct", where, f"{label}: pitfall", default=""),
    )


# -- field helpers: every message names the file, the entry and the field


def table_error(entry: Entry, field_name: str, error: MatcalcError) -> TableError:
    """A parse or declaration error inside an entry, located for the reader."""
    return TableError(f"{entry.file}: entry '{entry.id}': field '{field_name}': {error}")
