"""Strict loader of contract files (TOML, one contract per file) into :mod:`tariffs.model`.

Every rule of INTERFACE.md "Contract files" is checked and *all* problems of a
file are collected before raising one :class:`~tariffs.errors.ContractError`;
each problem names the file, the line (where the key can be located) and the
key path, e.g. ``contracts/x.toml:12: terms[0].indices[2].weight: expected a
number in [0, 1], got 1.4``.

Notes
-----
Values are read with :mod:`tomllib` (strict TOML 1.0) with ``parse_float=Decimal``,
so every number money depends on is the exact decimal written in the file.
Lines come from a scan of the text (:func:`key_lines`): neither tomllib nor
tomlkit expose the positions of keys; the scan also finds duplicate keys.

Defaults stated by the loader: ``fixed = 0``; ``revision.month`` = month of
``start``; ``index_rule = "lag"``; ``lag_months = 0``; ``window_months`` = 12
for ``mean`` and 1 otherwise (given with another rule it is ignored, with a
warning); ``rounding = "half-up"``; a term's ``label`` = "".
Customary bounds: a fixed share ``a`` outside [0.125, 0.5] is a warning (a
component at a fixed price, ``fixed = 1`` with no index, is not warned about).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from tariffs import model
from tariffs.errors import ContractError, Problem
from tariffs.periods import normalise_period

TOLERANCE = Decimal("1e-9")
FIXED_BOUNDS = (Decimal("0.125"), Decimal("0.5"))
PER_MWH = "EUR/MWh"
_ID = re.compile(r"[a-z0-9-]+")

SHARE = ("a number in [0, 1]", lambda v: 0 <= v <= 1)
POSITIVE = ("a number > 0", lambda v: v > 0)
VAT = ("a number in [0, 1)", lambda v: 0 <= v < 1)
SAFEGUARD = ("a number in (0, 1]", lambda v: 0 < v <= 1)

TOP_KEYS = (
    "id", "title", "client", "operator", "kind", "start", "end", "dwellings",
    "heated_area_m2", "yearly_consumption_mwh_useful", "source", "revision",
    "terms", "settlement", "same_supply_as",
)  # fmt: skip
REVISION_KEYS = (
    "frequency", "month", "index_rule", "lag_months", "window_months",
    "coefficient_decimals", "price_decimals", "rounding", "cap", "floor", "safeguard",
)  # fmt: skip
TERM_KEYS = (
    "code", "label", "base_price", "unit", "energy_basis", "base_period", "fixed",
    "vat_rate", "vat_rates", "indices", "components",
)  # fmt: skip
COMPONENT_KEYS = ("name", "share", "base_price", "fixed", "indices")
INDEX_KEYS = ("series", "weight", "base_value")
VAT_KEYS = ("rate", "since")
SETTLEMENT_KEYS = (
    "target_mwh", "reference_dju", "energy_basis", "savings_share",
    "overrun_share", "franchise", "price_term",
)  # fmt: skip


# --------------------------------------------------------------------------- lines


_BARE = r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'"
_KEY_LINE = re.compile(rf"^\s*((?:{_BARE})(?:\s*\.\s*(?:{_BARE}))*)\s*=(.*)$")
_HEADER = re.compile(rf"^\s*(\[\[?)\s*((?:{_BARE})(?:\s*\.\s*(?:{_BARE}))*)\s*\]\]?\s*(?:#.*)?$")
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in re.findall(_BARE, dotted)]


def key_lines(text: str) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """Map key paths (``terms[0].indices[2].weight``) to 1-based line numbers.

    Returns ``(lines, duplicates)`` where ``duplicates`` lists ``(key_path,
    line, first_line)``. A line scanner, not a TOML parser: it follows table
    headers, arrays of tables and ``key = value`` lines, skips multi-line
    strings, and numbers the ``{...}`` lines of multi-line arrays of inline tables.
    """
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int, int]] = []
    counts: dict[str, int] = {}
    table, in_string, array, depth = "", None, "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_string:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        if depth > 0:
            if depth == 1 and raw.lstrip().startswith("{"):
                lines.setdefault(f"{array}[{counts.setdefault(array, 0)}]", number)
                counts[array] += 1
            depth += _depth(raw)
            continue
        header = _HEADER.match(raw)
        if header:
            table = _header_path(_parts(header.group(2)), header.group(1) == "[[", counts)
            if table in lines:
                duplicates.append((table, number, lines[table]))
            lines.setdefault(table, number)
            continue
        key = _KEY_LINE.match(raw)
        if not key:
            continue
        path = ".".join([table, *_parts(key.group(1))] if table else _parts(key.group(1)))
        if path in lines:
            duplicates.append((path, number, lines[path]))
        lines.setdefault(path, number)
        value = key.group(2)
        for quote in ('"""', "'''"):
            if value.count(quote) % 2 == 1:
                in_string = quote
        if in_string is None:
            depth = _depth(value)
            array = path
            counts[array] = 0
    return lines, duplicates


def _depth(value: str) -> int:
    """Net number of ``[`` opened in a value (strings and comments removed)."""
    bare = _STRINGS.sub("", value).split("#", 1)[0]
    return bare.count("[") - bare.count("]")


def _header_path(parts: list[str], array: bool, counts: dict[str, int]) -> str:
    path = ""
    for i, part in enumerate(parts):
        path = f"{path}.{part}" if path else part
        if array and i == len(parts) - 1:
            n = counts.get(path, 0)
            counts[path] = n + 1
            path = f"{path}[{n}]"
        elif path in counts:
            path = f"{path}[{counts[path] - 1}]"
    return path


# --------------------------------------------------------------------------- checker


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, for ``got ...`` in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime):
        return f"a date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"a date {value.isoformat()}"
    return str(value)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class _Checker:
    """Collects the problems of one file and reads typed values with their checks."""

    def __init__(self, where: str, lines: dict[str, int]):
        self.where = where
        self.lines = lines
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def line(self, key: str) -> int | None:
        """Line of ``key``, else of its closest located parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > 0 else ""
        return None

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.where, key, message, self.line(key)))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(self.where, key, message, self.line(key), "warning"))

    def keys(self, table: dict, prefix: str, allowed: tuple[str, ...], required=()) -> None:
        """Refuse unknown keys (listing the allowed ones) and report missing required keys."""
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.error(_join(prefix, key), f"unknown key{hint}; allowed: {', '.join(allowed)}")
        for key in required:
            if key not in table:
                self.error(_join(prefix, key), "missing required key")

    def text(self, table: dict, prefix: str, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(_join(prefix, key), f"expected a non-empty text, got {_show(value)}")
            return None
        return value

    def number(self, table: dict, prefix: str, key: str, bounds=None) -> Decimal | None:
        """A number as ``Decimal``, checked against ``bounds`` = ``(description, predicate)``.

        ``None`` if absent, or invalid (then reported).
        """
        value = table.get(key)
        if value is None:
            return None
        wanted, test = bounds or ("a number", lambda v: True)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            number = Decimal(str(value))
            if number.is_finite() and test(number):
                return number
        self.error(_join(prefix, key), f"expected {wanted}, got {_show(value)}")
        return None

    def integer(self, table, prefix, key, low, high=None) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            wanted = f"an integer in [{low}, {high}]" if high is not None else f"an integer ≥ {low}"
            self.error(_join(prefix, key), f"expected {wanted}, got {_show(value)}")
            return None
        return value

    def choice(self, table, prefix, key, options: tuple[str, ...]) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if value not in options:
            self.error(
                _join(prefix, key), f"expected one of {', '.join(options)}, got {_show(value)}"
            )
            return None
        return value

    def date(self, table, prefix, key) -> date | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, date) or isinstance(value, datetime):
            self.error(
                _join(prefix, key),
                f"expected a TOML date such as 2000-07-01 (no quotes, no time), got {_show(value)}",
            )
            return None
        return value

    def period(self, table: dict, prefix: str, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        try:
            if isinstance(value, str):
                return normalise_period(value)
        except ValueError:
            pass
        self.error(
            _join(prefix, key), f"expected a month YYYY-MM or a quarter YYYY-Qn, got {_show(value)}"
        )
        return None

    def tables(self, table: dict, prefix: str, key: str, what: str) -> list[dict] | None:
        """An array of tables (``[[key]]`` or an inline array of ``{...}``)."""
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(
                _join(prefix, key), f"expected an array of tables ({what}), got {_show(value)}"
            )
            return None
        return value

    def table(self, table: dict, prefix: str, key: str) -> dict | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(_join(prefix, key), f"expected a table [{key}], got {_show(value)}")
            return None
        return value


# --------------------------------------------------------------------------- formulas


def _indices(r: _Checker, table: dict, prefix: str, catalog) -> tuple[model.IndexRef, ...] | None:
    """The ``indices`` of a formula; ``None`` when any is invalid (reported)."""
    key = _join(prefix, "indices")
    items = r.tables(table, prefix, "indices", "[[...indices]] or [{ series, weight }]")
    if items is None:
        return None if "indices" in table else ()
    refs, ok, seen = [], True, {}
    for i, item in enumerate(items):
        at = f"{key}[{i}]"
        r.keys(item, at, INDEX_KEYS, ("series", "weight"))
        series = r.text(item, at, "series")
        weight = r.number(item, at, "weight", SHARE)
        base_value = r.number(item, at, "base_value", POSITIVE)
        if series is not None and series in seen:
            r.error(
                f"{at}.series", f"series {series!r} used twice in one formula (also {seen[series]})"
            )
            ok = False
        elif series is not None:
            seen[series] = f"{key}[{i}]"
            ok &= _known_series(r, f"{at}.series", series, catalog)
        if series is None or weight is None or ("base_value" in item and base_value is None):
            ok = False
            continue
        refs.append(model.IndexRef(series, weight, base_value))
    return tuple(refs) if ok else None


def _known_series(r: _Checker, key: str, series: str, catalog) -> bool:
    if catalog is None or series in catalog:
        return True
    close = difflib.get_close_matches(series, list(catalog), n=3, cutoff=0.5)
    close += [s for s in catalog if s.lower() == series.lower() and s not in close]
    hint = f"; close matches: {', '.join(close)}" if close else ""
    r.error(key, f"unknown series {series!r}: not in the index catalog{hint}")
    return False


def _formula(r: _Checker, table: dict, prefix: str, name, share, catalog) -> model.Component | None:
    """``base_price``, ``fixed`` and ``indices`` of a plain term or of a component."""
    if "base_price" not in table:
        r.error(_join(prefix, "base_price"), "missing required key")
    base_price = r.number(table, prefix, "base_price", POSITIVE)
    fixed = r.number(table, prefix, "fixed", SHARE) if "fixed" in table else Decimal(0)
    refs = _indices(r, table, prefix, catalog)
    if fixed is None or refs is None:
        return None
    total = fixed + sum((ref.weight for ref in refs), Decimal(0))
    if abs(total - 1) > TOLERANCE:
        parts = " + ".join([f"fixed {fixed}", *(f"{ref.weight} ({ref.series})" for ref in refs)])
        r.error(prefix, f"fixed + sum of weights must be 1, got {total} = {parts}")
        return None
    if not (fixed == 1 and not refs) and not FIXED_BOUNDS[0] <= fixed <= FIXED_BOUNDS[1]:
        r.warn(
            _join(prefix, "fixed"),
            f"fixed share {fixed} outside the customary bounds [0.125, 0.5]",
        )
    if base_price is None or share is None:
        return None
    return model.Component(name, share, base_price, fixed, refs)


def _components(r: _Checker, table: dict, prefix: str, catalog) -> tuple | None:
    """The ``[[terms.components]]`` of a mix term; shares sum to 1, names unique."""
    for key in ("base_price", "fixed", "indices"):
        if key in table:
            r.error(
                _join(prefix, key),
                "not allowed in a term made of components: give it in each [[terms.components]]",
            )
    key = _join(prefix, "components")
    items = r.tables(table, prefix, "components", "[[terms.components]]")
    if not items:
        if items is not None:
            r.error(key, "expected at least one component")
        return None
    built, names, ok = [], {}, True
    for i, item in enumerate(items):
        at = f"{key}[{i}]"
        r.keys(item, at, COMPONENT_KEYS, ("name", "share"))
        name = r.text(item, at, "name")
        if name is not None and name in names:
            r.error(f"{at}.name", f"component name {name!r} used twice (also {names[name]})")
        elif name is not None:
            names[name] = at
        share = r.number(item, at, "share", SHARE)
        component = _formula(r, item, at, name, share, catalog)
        ok &= component is not None and name is not None
        built.append(component)
    if not ok:
        return None
    total = sum((c.share for c in built), Decimal(0))
    if abs(total - 1) > TOLERANCE:
        shares = " + ".join(str(c.share) for c in built)
        r.error(key, f"shares must sum to 1, got {total} = {shares}")
        return None
    return tuple(built)


# --------------------------------------------------------------------------- terms


def _vat_rates(r: _Checker, table: dict, prefix: str) -> tuple[model.VatRate, ...] | None:
    """``vat_rate = 0.055`` (always) or ``[[terms.vat_rates]]`` ``{rate, since}`` tables."""
    if "vat_rate" in table and "vat_rates" in table:
        r.error(_join(prefix, "vat_rates"), "give either vat_rate or [[terms.vat_rates]], not both")
        return None
    if "vat_rate" in table:
        rate = r.number(table, prefix, "vat_rate", VAT)
        return None if rate is None else (model.VatRate(rate),)
    key = _join(prefix, "vat_rates")
    items = r.tables(table, prefix, "vat_rates", "[[terms.vat_rates]] with rate and since")
    if items is None:
        return None if "vat_rates" in table else ()
    rates, ok, seen = [], True, {}
    for i, item in enumerate(items):
        at = f"{key}[{i}]"
        r.keys(item, at, VAT_KEYS, ("rate",))
        rate = r.number(item, at, "rate", VAT)
        since = r.date(item, at, "since")
        if since in seen:
            r.error(f"{at}.since", f"a second rate since {since or 'always'} (also {seen[since]})")
            ok = False
        seen[since] = at
        if rate is None or ("since" in item and since is None):
            ok = False
            continue
        rates.append(model.VatRate(rate, since))
    if not ok:
        return None
    return tuple(sorted(rates, key=lambda v: v.since or date.min))


def _term(r: _Checker, table: dict, prefix: str, catalog) -> model.Term | None:
    r.keys(table, prefix, TERM_KEYS, ("code", "unit", "base_period"))
    code = r.text(table, prefix, "code")
    label = r.text(table, prefix, "label") or ""
    unit = r.choice(table, prefix, "unit", model.UNITS)
    basis = None
    if unit == PER_MWH:
        if "energy_basis" not in table:
            r.error(
                _join(prefix, "energy_basis"),
                f"missing required key for unit {PER_MWH}: one of {', '.join(model.ENERGY_BASES)}",
            )
        basis = r.choice(table, prefix, "energy_basis", model.ENERGY_BASES)
    elif unit is not None and "energy_basis" in table:
        r.error(_join(prefix, "energy_basis"), f"unknown key for unit {unit} (only for {PER_MWH})")
    base_period = r.period(table, prefix, "base_period")
    vat = _vat_rates(r, table, prefix)
    if "components" in table:
        components = _components(r, table, prefix, catalog)
    else:
        plain = _formula(r, table, prefix, None, Decimal(1), catalog)
        components = None if plain is None else (plain,)
    if None in (code, unit, base_period, vat, components) or (unit == PER_MWH and basis is None):
        return None
    return model.Term(code, label, unit, basis, base_period, components, vat)


def _terms(r: _Checker, doc: dict, catalog) -> tuple[model.Term, ...] | None:
    items = r.tables(doc, "", "terms", "[[terms]]")
    if items is None:
        return None
    if not items:
        r.error("terms", "expected at least one [[terms]]")
        return None
    terms, codes = [], {}
    for i, item in enumerate(items):
        terms.append(_term(r, item, f"terms[{i}]", catalog))
        code = item.get("code")
        if isinstance(code, str) and code in codes:
            r.error(f"terms[{i}].code", f"term code {code!r} used twice (also {codes[code]})")
        elif isinstance(code, str):
            codes[code] = f"terms[{i}]"
    return None if None in terms else tuple(terms)


# --------------------------------------------------------------------------- revision, settlement


def _revision(r: _Checker, doc: dict, start: date | None) -> model.Revision | None:
    table = r.table(doc, "", "revision")
    if table is None:
        return None
    p = "revision"
    before = len(r.problems)
    r.keys(table, p, REVISION_KEYS, ("frequency",))
    frequency = r.choice(table, p, "frequency", model.FREQUENCIES)
    month = r.integer(table, p, "month", 1, 12)
    rule = r.choice(table, p, "index_rule", model.INDEX_RULES) or "lag"
    window = r.integer(table, p, "window_months", 1)
    if window is not None and rule != "mean":
        r.warn(f"{p}.window_months", f'only used with index_rule = "mean" (here {rule}): ignored')
    cap = r.number(table, p, "cap", POSITIVE)
    floor = r.number(table, p, "floor", POSITIVE)
    if cap is not None and floor is not None and cap < floor:
        r.error(f"{p}.cap", f"cap {cap} is below floor {floor}")
    revision = dict(
        lag_months=r.integer(table, p, "lag_months", 0),
        coefficient_decimals=r.integer(table, p, "coefficient_decimals", 0, 10),
        price_decimals=r.integer(table, p, "price_decimals", 0, 10),
        rounding=r.choice(table, p, "rounding", model.ROUNDINGS),
        safeguard=r.number(table, p, "safeguard", SAFEGUARD),
    )
    if len(r.problems) > before or start is None:
        return None
    return model.Revision(
        frequency=frequency,
        month=month or start.month,
        index_rule=rule,
        lag_months=revision["lag_months"] or 0,
        window_months=(window or 12) if rule == "mean" else 1,
        coefficient_decimals=revision["coefficient_decimals"],
        price_decimals=revision["price_decimals"],
        rounding=revision["rounding"] or "half-up",
        cap=cap,
        floor=floor,
        safeguard=revision["safeguard"],
    )


def _settlement(r: _Checker, doc: dict) -> model.Settlement | None:
    """``[settlement]`` of an MCI/MTI contract; ``price_term`` must name a term."""
    table = r.table(doc, "", "settlement")
    if table is None:
        return None
    p = "settlement"
    before = len(r.problems)
    r.keys(table, p, SETTLEMENT_KEYS, ("target_mwh", "reference_dju"))
    values = {
        "target_mwh": r.number(table, p, "target_mwh", POSITIVE),
        "reference_dju": r.number(table, p, "reference_dju", POSITIVE),
        "energy_basis": r.choice(table, p, "energy_basis", model.ENERGY_BASES),
        "savings_share": r.number(table, p, "savings_share", SHARE),
        "overrun_share": r.number(table, p, "overrun_share", SHARE),
        "franchise": r.number(table, p, "franchise", VAT),
        "price_term": r.text(table, p, "price_term"),
    }
    price_term = values["price_term"] or "P1"
    codes = [t.get("code") for t in doc.get("terms", []) if isinstance(t, dict)]
    if isinstance(doc.get("terms"), list) and price_term not in codes:
        shown = ", ".join(str(c) for c in codes)
        r.error(f"{p}.price_term", f"{price_term!r} is not a term of this contract ({shown})")
    if len(r.problems) > before:
        return None
    return model.Settlement(**{k: v for k, v in values.items() if v is not None})


# --------------------------------------------------------------------------- contract


def _contract(r: _Checker, doc: dict, catalog) -> model.Contract | None:
    r.keys(doc, "", TOP_KEYS, ("id", "title", "start", "revision", "terms"))
    cid = r.text(doc, "", "id")
    if cid is not None and not _ID.fullmatch(cid):
        r.error(
            "id", f"expected lower-case letters, digits and '-' only ([a-z0-9-]+), got {_show(cid)}"
        )
        cid = None
    start = r.date(doc, "", "start")
    end = r.date(doc, "", "end")
    if start is not None and end is not None and end <= start:
        r.error("end", f"end {end} must be after start {start}")
    top = dict(
        title=r.text(doc, "", "title"),
        client=r.text(doc, "", "client"),
        operator=r.text(doc, "", "operator"),
        source=r.text(doc, "", "source"),
        kind=r.choice(doc, "", "kind", model.KINDS),
        dwellings=r.integer(doc, "", "dwellings", 1),
        heated_area_m2=r.number(doc, "", "heated_area_m2", POSITIVE),
        yearly_consumption_mwh_useful=r.number(doc, "", "yearly_consumption_mwh_useful", POSITIVE),
        same_supply_as=r.text(doc, "", "same_supply_as"),
    )
    if top["same_supply_as"] is not None and not _ID.fullmatch(top["same_supply_as"]):
        r.error(
            "same_supply_as",
            f"expected a contract id ([a-z0-9-]+), got {_show(top['same_supply_as'])}",
        )
    revision = _revision(r, doc, start)
    terms = _terms(r, doc, catalog)
    settlement = _settlement(r, doc)
    if r.problems:
        return None
    return model.Contract(
        id=cid, start=start, end=end, revision=revision, terms=terms, path=r.where,
        settlement=settlement, warnings=tuple(str(w) for w in r.warnings), **top,
    )  # fmt: skip


def _read(path: Path) -> tuple[_Checker, dict | None]:
    """Parse one file: the checker (with lines) and the document, or parse problems."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return _failed(where, "file not found"), None
    except UnicodeDecodeError as exc:
        return _failed(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})"), None
    except OSError as exc:
        return _failed(where, f"cannot read the file: {exc.strerror or exc}"), None
    lines, duplicates = key_lines(text)
    r = _Checker(where, lines)
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        for key, line, first in duplicates:
            message = f"duplicate key (first given at line {first})"
            r.problems.append(Problem(where, key, message, line))
        if not r.problems:
            found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            line = int(found.group(1)) if found else None
            r.problems.append(Problem(where, "", f"not valid TOML: {message}", line))
        return r, None
    return r, doc


def _failed(where: str, message: str) -> _Checker:
    r = _Checker(where, {})
    r.problems.append(Problem(where, "", message))
    return r


def _load(path: Path, catalog) -> tuple[model.Contract | None, _Checker]:
    r, doc = _read(Path(path))
    if doc is None or r.problems:
        return None, r
    return _contract(r, doc, catalog), r


def load_contract(path: Path, catalog: dict | None = None) -> model.Contract:
    """Read and validate one contract file.

    ``catalog`` (series id -> SeriesInfo, see :func:`tariffs.series.load_catalog`),
    when given, must hold every ``series`` the formulas name. Raises
    :class:`ContractError` carrying all the problems of the file; warnings
    (customary bounds) are in ``Contract.warnings`` as ``path:line: key: warning: ...``.
    """
    contract, r = _load(path, catalog)
    if contract is None:
        raise ContractError(problems=r.problems)
    return contract


def contract_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders (their ``*.toml``, sorted, not recursive); report missing paths."""
    files, problems, seen = [], [], set()
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                problems.append(Problem(str(path), "", "no contract file (*.toml) in this folder"))
        elif path.exists():
            found = [path]
        else:
            problems.append(Problem(str(path), "", "no such file or folder"))
            found = []
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append(file)
    if not paths:
        problems.append(Problem("(command line)", "", "no contract file or folder given"))
    return files, problems


def load_contracts(paths: list[Path], catalog: dict | None = None) -> list[model.Contract]:
    """Load contract files and folders; all problems of all files raised together.

    Ids must be unique across the files (a duplicate names both files). Raises
    :class:`ContractError` if any file is invalid or no contract is found.
    """
    files, problems = contract_files(paths)
    contracts, ids = [], {}
    for file in files:
        contract, r = _load(file, catalog)
        problems.extend(r.problems)
        if contract is None:
            continue
        if contract.id in ids:
            message = f"duplicate id {contract.id!r}: also the id of {ids[contract.id]}"
            problems.append(Problem(str(file), "id", message, r.line("id")))
            continue
        ids[contract.id] = str(file)
        contracts.append(contract)
    if not problems and not contracts:
        problems.append(Problem(", ".join(map(str, paths)), "", "no contract found"))
    if problems:
        raise ContractError(problems=problems)
    return contracts
