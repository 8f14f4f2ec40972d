"""Judging a proposed aliases text as the core would: :func:`check_text` (``aliases.check``).

Nothing is written.  The text goes through the real parser
(:func:`~postroom.core.aliases.parse_aliases`); a refused file answers its
problems (``errors``, each with its line) and no entries.  Otherwise every
entry is listed with its line span, and every entry (or only those in
``keys``; the others answer ``checked: false``) is expanded by the real
:class:`~postroom.core.aliases.Expander` over a table built from the
proposed text, with the accounts and
LocalDomains delivery uses (``.forward`` files are not read: they are not
part of the aliases file).  Each entry answers its targets, typed
(``address``, ``include``, ``program``, ``file``, ``error``), each with its
problems, plus the entry's own problems and what it expands to
(``-bv``'s lines).  An entry being edited can send its ``name`` and
``targets`` too: each is then parsed alone, so a syntax error is reported next
to the target that has it, not only on the file's line.  Severities:

- ``error`` (the GUI refuses to apply an entry with one): a loop, a fan-out
  over the limit, a program/file/``:include:`` target in an aliases file that
  is not trusted (``newaliases`` refuses the whole file then), a malformed
  address (white space in an unquoted name, an empty local part, a bad
  domain -- what Sendmail's CheckAliases calls ``bad address``);
- ``warning``: an unknown local user, an ``:include:`` file that cannot be
  read now, a temporary failure, and ``error:`` targets, which Sendmail
  gives no meaning in an aliases file (SENDMAIL.md 7.1: the target is an
  ordinary address -- a local name bounces ``User unknown``; ``error:``
  belongs in virtusertable).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..aliases import (
    AliasEntry,
    AliasFileError,
    AliasTable,
    Element,
    Expansion,
    Failure,
    Kind,
    parse_aliases,
)
from ..aliases.compile import _untrusted_targets
from ..aliases.elements import ElementSyntaxError, parse_list
from ..aliases.setup import expander_for
from ..aliases.table import run_as_for_uid
from ..aliases.trust import alias_file_problem
from ..aliases.verify import deliverable_line
from ..config.model import Config

MAX_EXPANDS_TO = 50
_LINE = re.compile(r": line (\d+): ")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f.:IPv]+\]")
_ERROR_TEXT = (
    "error: has no meaning in an aliases file: Sendmail takes this target for an ordinary "
    "address (a local name bounces with User unknown); put error: entries in virtusertable"
)
# Failure status -> severity; anything else is a warning.
_ERRORS = ("5.4.6", "5.5.3", "5.3.5", "5.7.1")


def _problem(severity: str, text: str) -> dict[str, str]:
    return {"severity": severity, "text": text}


def target_kind(element: Element) -> str:
    """The GUI's type for one parsed target."""
    if element.kind is Kind.PROGRAM:
        return "program"
    if element.kind is Kind.FILE:
        return "file"
    if element.kind is Kind.INCLUDE:
        return "include"
    if element.value.lower().startswith("error:"):
        return "error"
    return "address"


def address_problem(element: Element) -> str | None:
    """Why an address target is malformed (Sendmail's CheckAliases ``bad address``), or None."""
    if target_kind(element) == "error":
        return None
    if element.kind is Kind.LOCAL:
        if not element.value or (
            not element.shown.startswith('"') and any(c in element.value for c in " \t")
        ):
            return f"{element.shown}... bad address (white space in a name: a missing comma?)"
        return None
    if element.kind is not Kind.REMOTE:
        return None
    local, _, domain = element.value.rpartition("@")
    if not local:
        return f"{element.shown}... bad address (nothing before the @)"
    if not local.startswith('"') and any(c in local for c in " \t"):
        return f"{element.shown}... bad address (white space in the local part)"
    if not _DOMAIN.fullmatch(domain):
        return f"{element.shown}... bad address (domain {domain!r} is not a host name)"
    return None


def _target_index(entry: AliasEntry, failure: Failure) -> int | None:
    """Which of the entry's own targets a failure belongs to (None: the entry as a whole)."""
    if len(failure.via) == 1:
        for i, element in enumerate(entry.elements):
            if element.shown == failure.address:
                return i
    if len(failure.via) >= 2:
        step = failure.via[1]
        for i, element in enumerate(entry.elements):
            if element.kind is Kind.LOCAL and element.value.lower() == step:
                return i
    return None


def _judge(
    entry: AliasEntry, expansion: Expansion
) -> tuple[list[list[dict[str, str]]], list[dict[str, str]]]:
    per_target: list[list[dict[str, str]]] = [[] for _ in entry.elements]
    whole: list[dict[str, str]] = []
    for i, element in enumerate(entry.elements):
        bad = address_problem(element)
        if bad is not None:
            per_target[i].append(_problem("error", bad))
        if target_kind(element) == "error":
            per_target[i].append(_problem("warning", _ERROR_TEXT))
    for failure in expansion.failures:
        index = _target_index(entry, failure)
        loop = failure.status in ("5.4.6", "5.5.3")
        if index is None:
            if len(failure.via) > 1 and not loop:
                continue  # a deeper alias's own problem: shown on that entry
            whole.append(_problem("error" if loop else "warning", failure.reply))
            continue
        element = entry.elements[index]
        if len(failure.via) > 1 and not loop:
            continue
        if target_kind(element) == "error" or address_problem(element) is not None:
            continue  # already explained
        severity = "error" if failure.status in _ERRORS else "warning"
        per_target[index].append(_problem(severity, failure.reply))
    return per_target, whole


def check_target(text: str, local_domains: Sequence[str]) -> dict[str, Any]:
    """One target as written, alone: its type and its syntax problems (the real list parser)."""
    found: dict[str, Any] = {"shown": text, "kind": None, "value": "", "problems": []}
    try:
        elements = parse_list(text, local_domains)
    except ElementSyntaxError as exc:
        found["problems"].append(_problem("error", f"{text}... {exc}"))
        return found
    if not elements:
        found["problems"].append(_problem("error", "an empty target"))
        return found
    if len(elements) > 1:
        why = f"{len(elements)} targets in one (a comma separates targets; quote it to keep it)"
        found["problems"].append(_problem("error", f"{text}... {why}"))
        return found
    element = elements[0]
    found.update(shown=element.shown, kind=target_kind(element), value=element.value)
    bad = address_problem(element)
    if bad is not None:
        found["problems"].append(_problem("error", bad))
    if found["kind"] == "error":
        found["problems"].append(_problem("warning", _ERROR_TEXT))
    return found


def check_name(name: str, local_domains: Sequence[str]) -> list[dict[str, str]]:
    """Problems of an alias name, from the real parser reading ``<name>: postmaster``."""
    if any(c in name for c in "\n\r"):
        return [_problem("error", "a name is one line")]
    try:
        parse_aliases(f"{name}: postmaster\n".encode(), "name", local_domains=local_domains)
    except AliasFileError as exc:
        return [_problem("error", p.text) for p in exc.problems]
    return []


def _lined(rendered: str) -> dict[str, Any]:
    match = _LINE.search(rendered)
    line = int(match.group(1)) if match else 0
    text = rendered[match.end() :] if match else rendered
    return {"line": line, "text": text, "message": rendered}


def check_text(
    config: Config,
    path: Path,
    data: bytes,
    keys: Sequence[str] | None,
    *,
    name: str | None = None,
    targets: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The ``aliases.check`` answer for ``data`` proposed as the file ``path``.

    ``name`` and ``targets`` (one entry being edited) are also judged alone:
    ``name_problems`` and ``target_checks`` (one per target, in order).
    """
    result: dict[str, Any] = {"path": str(path), "errors": [], "warnings": [], "entries": []}
    domains = tuple(config.local_domains)
    if name is not None:
        result["name_problems"] = check_name(name, domains)
    if targets is not None:
        result["target_checks"] = [check_target(t, domains) for t in targets]
    try:
        source = parse_aliases(data, str(path), local_domains=config.local_domains)
    except AliasFileError as exc:
        result["errors"] = [_lined(p.render(exc.path)) for p in exc.problems]
        result["ok"] = False
        return result
    result["warnings"] = [_lined(w) for w in source.warnings]
    result["summary"] = source.summary()
    try:
        st: os.stat_result | None = os.stat(path)
    except OSError:
        st = None  # a new file: written by this process, so trusted
    why = alias_file_problem(st) if st is not None else None
    untrusted: dict[int, list[str]] = {}
    if why is not None:
        for problem in _untrusted_targets(source, str(path), why):
            untrusted.setdefault(problem.line, []).append(problem.text)
    owner = run_as_for_uid(st.st_uid if st is not None else os.geteuid())
    table = AliasTable.from_source(source, trusted=True, run_as=owner)
    expander = expander_for(config, table, forward_enabled=False)
    wanted = None if keys is None else {k.lower() for k in keys}
    for entry in source.entries:
        if wanted is not None and entry.key not in wanted:
            result["entries"].append(
                {
                    "key": entry.key,
                    "value": entry.value,
                    "line": entry.first_line,
                    "last_line": entry.line,
                    "checked": False,
                }
            )
            continue
        expansion = expander.expand(entry.key)
        per_target, whole = _judge(entry, expansion)
        for text in untrusted.get(entry.line, []):
            shown = text.split("... ", 1)[0]
            for i, element in enumerate(entry.elements):
                if element.shown == shown:
                    per_target[i].append(_problem("error", text))
        lines = [deliverable_line(d) for d in expansion.deliveries[:MAX_EXPANDS_TO]]
        result["entries"].append(
            {
                "key": entry.key,
                "value": entry.value,
                "line": entry.first_line,
                "last_line": entry.line,
                "targets": [
                    {
                        "shown": element.shown,
                        "kind": target_kind(element),
                        "value": element.value,
                        "problems": per_target[i],
                    }
                    for i, element in enumerate(entry.elements)
                ],
                "problems": whole,
                "expands_to": lines,
                "more": max(0, len(expansion.deliveries) - MAX_EXPANDS_TO),
                "checked": True,
            }
        )
    result["ok"] = True
    return result
