"""Loading the configuration: file checks, TOML, option values, ``-O`` overrides.

Owns ``load_config(path, overrides)``, the only way a ``Config`` is made.  It refuses a
file that is world-writable or owned by someone other than root or the current user
(BAD-INPUTS 59), a TOML syntax error (with tomllib's line), an unknown option (with a
did-you-mean), a control character in any value (BAD-INPUTS 60), a bad value, and the
cross-option problems of ``checks``.  Every refusal is a ``ConfigError`` naming file,
line and option; all problems of one load are in ``error.problems``.

Overrides are ``Option=Value`` strings as given to ``-O``: option names are matched
without regard to case, a boolean option given alone means true, lists are
comma-separated, and the ``-O DaemonPortOptions`` given together REPLACE the file's
listener list (Sendmail would add to it).  Relative paths in the file and in overrides
are relative to the config file's folder.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..policy.files import trust_problem
from .checks import cross_check
from .errors import OVERRIDE, BadValue, ConfigError
from .kinds import BOOL
from .lines import element_lines, find_lines, first_repeat
from .model import Config
from .options import OPTIONS, TIMEOUTS, Option

__all__ = ["ConfigError", "load_config", "printable", "suggest"]

MAX_CONFIG_BYTES = 1024 * 1024
_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_BY_LOWER = {name.lower(): option for name, option in OPTIONS.items()}


def printable(text: str) -> str:
    """``text`` with control characters escaped, safe to put in a message or log."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def suggest(name: str) -> str:
    """``"; did you mean X?"`` for the closest option name, or ``""``."""

    def norm(s: str) -> str:
        return s.lower().replace("_", "").replace("-", "")

    table = {norm(n): n for n in OPTIONS}
    close = difflib.get_close_matches(norm(name), list(table), n=1, cutoff=0.6)
    return f"; did you mean {table[close[0]]}?" if close else ""


def _control_char(value: object) -> str | None:
    if isinstance(value, str):
        for ch in value:
            if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
                return (
                    f"the value contains a control character (U+{ord(ch):04X}); "
                    "configuration values must not contain control characters"
                )
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            problem = _control_char(item)
            if problem:
                return problem
    return None


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            problem = trust_problem(os.fstat(f.fileno()), secret=False)
            if problem is not None:
                raise ConfigError(path, 0, "", f"refusing to load: the file {problem}")
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(path, 0, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, 0, "", f"the file is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "", "the file is not valid UTF-8") from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _AT_LINE.search(message)
        repeat = first_repeat(text) if message.startswith("Cannot overwrite") else None
        if repeat is not None:
            key, line = repeat
            raise ConfigError(path, line, printable(key), "given twice") from None
        if match:
            line = int(match.group(1))
            message = f"{message[: match.start()]} (column {match.group(2)})"
        else:
            line = text.count("\n") + 1
            message = message.replace("(at end of document)", "(at the end of the file)")
        raise ConfigError(path, line, "TOML syntax", message) from None


class _Load:
    """One load: collects values, their places, errors and warnings."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = find_lines(text)
        self.errors: list[ConfigError] = []
        self.found: dict[str, tuple[object, int]] = {}  # option -> (raw value, line)
        self.overridden: dict[str, object] = {}

    def error(self, source: Path | str, line: int, option: str, message: str) -> None:
        self.errors.append(ConfigError(source, line, option, message))

    def take(self, name: str, value: object, line: int) -> None:
        if name not in OPTIONS:
            hint = suggest(name)
            if name == "Timeout" or (name.startswith("Timeout.") and not hint):
                hint = "; timeouts are " + ", ".join(f"Timeout.{t}" for t in TIMEOUTS)
            self.error(self.path, line, printable(name), "unknown option" + hint)
        elif name in self.found:
            self.error(self.path, line, name, f"given twice (first on line {self.found[name][1]})")
        elif problem := _control_char(value):
            self.error(self.path, line, name, problem)
        else:
            self.found[name] = (value, line)

    def collect(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if key == "Timeout" and isinstance(value, dict):
                for sub, sub_value in value.items():
                    name = f"Timeout.{sub}"
                    self.take(name, sub_value, self.lines.get(name, self.lines.get(key, 0)))
            else:
                self.take(key, value, self.lines.get(key, 0))

    def override(self, arg: str) -> None:
        name, sep, text = arg.partition("=")
        name = name.strip()
        option = _BY_LOWER.get(name.lower())
        if option is None:
            shown = printable(name) or '""'
            self.error(OVERRIDE, 0, shown, "unknown option" + suggest(name))
            return
        if problem := _control_char(text):
            self.error(OVERRIDE, 0, option.name, problem)
            return
        if not sep and option.kind is not BOOL:
            self.error(OVERRIDE, 0, option.name, "expected -O Option=Value")
            return
        raw = option.kind.from_text(text.strip()) if sep else True
        if option.name == "DaemonPortOptions" and isinstance(raw, list):
            previous = self.overridden.get(option.name, [])
            raw = [*previous, *raw] if isinstance(previous, list) else raw
        self.overridden[option.name] = raw

    def value(self, option: Option, base: Path) -> tuple[bool, Any]:
        """(ok, typed value) for one option, recording an error when its value is bad."""
        if option.name in self.overridden:
            raw, source, line = self.overridden[option.name], OVERRIDE, 0
        elif option.name in self.found:
            raw, line = self.found[option.name]
            source = str(self.path)
        else:
            raw, source, line = option.default_value(), str(self.path), 0
        try:
            return True, option.kind.parse(raw, base)
        except BadValue as exc:
            if exc.index is not None and source != OVERRIDE and isinstance(raw, list) and line:
                texts = [str(item) for item in raw]
                line = element_lines(self.text, line, texts)[exc.index]
            self.error(source, line, option.name, exc.message)
            return False, None

    def place(self, option: str) -> tuple[Path | str, int]:
        if option in self.overridden:
            return OVERRIDE, 0
        return self.path, self.found[option][1] if option in self.found else 0


def load_config(path: Path, overrides: Sequence[str] = ()) -> Config:
    """Read, check and convert the config file, applying ``-O`` overrides on top."""
    path = Path(path).absolute()
    text = _read(path)
    data = _parse_toml(path, text)
    load = _Load(path, text)
    load.collect(data)
    for arg in overrides:
        load.override(arg)
    base = path.parent
    values: dict[str, Any] = {}
    timeouts: dict[str, float] = {}
    for option in OPTIONS.values():
        ok, typed = load.value(option, base)
        if ok and option.attr == "timeouts":
            timeouts[option.name.partition(".")[2]] = typed
        elif ok:
            values[option.attr] = typed
    if load.errors:
        _raise(load.errors)
    values["timeouts"] = timeouts
    hs: Path = values["host_status_directory"]
    values["host_status_directory"] = values["queue_directory"] / hs
    values["local_domains"] = values["local_domains"] | {values["host_name"].lower(), "localhost"}
    warnings: list[str] = []
    for finding in cross_check(values):
        source, line = load.place(finding.option)
        problem = ConfigError(source, line, finding.option, finding.message)
        if finding.error:
            load.errors.append(problem)
        else:
            warnings.append(str(problem))
    if load.errors:
        _raise(load.errors)
    values["timeouts"] = MappingProxyType(timeouts)
    return Config(
        path=path,
        lines=MappingProxyType({name: line for name, (_, line) in load.found.items()}),
        overrides=tuple(overrides),
        warnings=tuple(warnings),
        **values,
    )


def _raise(errors: list[ConfigError]) -> None:
    first = errors[0]
    first.problems = tuple(errors)
    raise first
