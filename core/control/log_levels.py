"""The LogLevel a mail-log line was written at, recovered from its text.

Sendmail's log lines carry no level (syslog has only a priority, and ``LogFile`` lines
are ``<date> <host> postroom-mta[<pid>]: <text>``), so a LogLevel filter cannot read
one.  This module recovers it from what each line says: ``LEVEL_PATTERNS`` lists, per
level, the texts Postroom's log calls write at that level (SENDMAIL.md 6.1: 5 the
``from=`` lines, 6 VRFY/EXPN/ETRN and their refusals, 7/8/9 failed/sent/deferred
``to=`` lines told apart by their ``dsn=`` class, 12 connections, 14 refused
connections, 15 commands ...).  ``line_level`` answers ``None`` for a line it does not
recognise (another program's, or a message this table has not caught up with); a
filter shows such lines at every setting rather than hide them.

The filter's meaning: "LogLevel N" shows the lines a daemon running at LogLevel N would
have written -- the recognised lines of level <= N, plus the unrecognised ones.
"""

from __future__ import annotations

import re

_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d \S+ [^\s\[]+(?:\[\d+\])?: ")
_QID = re.compile(r"^[0-9A-Za-z]{8,20}: ")
_DELIVERY = re.compile(r"(?:^|, )to=.*, dsn=(\d)\.")

LEVEL_PATTERNS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, (r"^--- (?:dumping state|end of state dump)", r"^CurChildren = ",
         r"^listener \S+: .* port \d+$", r"^session .* state=\w+", r"^fd \d+: ",
         r"^queue runner: ", r"^connection cache: ", r"^\*\*\* \$j ")),
    (1, (r"reload refused, old configuration", r"optional socket not opened",
         r"^cannot create queue file", r"^queue write failed", r"^delivery failed: ",
         r"^queue run failed: ", r"^Losing ", r"^savemail: ", r"^cannot rewrite ",
         r"^Warning: Cannot use HostStatusDirectory", r"^aliases: .*using no aliases",
         r"^map .*; not used$", r"^sweep: ")),
    (2, (r"^timeout waiting for input from ", r"^STARTTLS=server, error")),
    (3, (r"^host status of .* unusable", r"^cannot record host status")),
    (4, (r"ruleset=check_\w+, ", r"^message refused \(", r"^discarded \(access map",
         r"^configuration warning: ", r"octets pipelined after STARTTLS dropped")),
    (5, (r"(?:^|, )from=.*, size=\d+",)),
    (6, (r" \[rejected\]$", r": (?:VRFY|EXPN|ETRN) ", r": DSN: ")),
    (9, (r"^starting daemon", r"^stopping daemon", r"^configuration reloaded from ",
         r"^daemon \S+ listening on ", r"^removed stale transcript ")),
    (10, (r"^AUTH=\w", r"^AUTH failure ", r"^alias .* => ", r"^virtusertable .* => ",
          r"^vacation for ")),
    (12, (r"^connect from ",)),
    (14, (r"^rejecting connection from ",)),
    (15, (r"^<-- ", r": bare_lf in command$")),
    (20, (r"^locked$",)),
)  # fmt: skip
_COMPILED = tuple((level, re.compile("|".join(pats))) for level, pats in LEVEL_PATTERNS)
_DSN_LEVEL = {"2": 8, "4": 9, "5": 7}


def message_text(line: str) -> str:
    """The message part of a log line: date, host, program and queue id removed."""
    match = _PREFIX.match(line)
    text = line[match.end() :] if match else line
    qid = _QID.match(text)
    return text[qid.end() :] if qid else text


def line_level(line: str) -> int | None:
    """The LogLevel at which ``line`` was written, or None when it is not recognised."""
    text = message_text(line)
    delivery = _DELIVERY.search(text)
    if delivery is not None:
        return _DSN_LEVEL.get(delivery.group(1))
    for level, pattern in _COMPILED:
        if pattern.search(text):
            return level
    return None
