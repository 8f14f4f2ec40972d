"""``privacy.probe`` and ``ports.status``: what the running daemon shows a client, checked.

``privacy.probe`` connects over SMTP to one of the daemon's listeners (``listener``
names it; by default the first plain-text one, preferring one that does not require
AUTH) from this machine and sends what a curious client sends: MAIL, VRFY and EXPN
before HELO, then EHLO, VRFY, EXPN, ETRN and VERB.  Each reply is returned as the
client saw it, marked refused or answered, beside what the PrivacyOptions in the
configuration file (and the listener's ``E``/``a`` modifiers) say it should be; the
EHLO keywords EXPN, VERB, ETRN and DSN likewise.  ``matches_config`` is true when every
row agrees -- after a reload, a client polls until it is (SIGHUP is acted on
asynchronously) and shows the rows either way.  ETRN is sent as ``ETRN #postroom-probe``
(a queue name no queue has), so a probe never starts a queue run: a refusal is 502, an
accepted ETRN answers 459 "Queue postroom-probe unknown".

``ports.status`` tries every configured listener: a TCP connection (and, unless the
listener speaks TLS from the first byte, the greeting) tells whether it is bound and
whether it is our daemon that answers.  Both use :mod:`.smtp_probe`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.model import Config
from ..policy.ports import DaemonPort, format_daemon_port
from ..policy.privacy import Privacy, effective_noverb, privacy_names
from .context import Context, Stream
from .daemon_methods import daemon_state
from .params import Params, bad
from .protocol import NOT_FOUND, RpcError
from .smtp_probe import ProbeError, Reply, SmtpConversation, listener_target

PROBE_HELO = "postroom-probe.localhost"
PROBE_USER = "postmaster"
PROBE_QUEUE = "#postroom-probe"
STATUS_CONNECT_TIMEOUT = 2.0
STATUS_REPLY_TIMEOUT = 3.0
Expect = Callable[[Privacy, DaemonPort], bool]


@dataclass(frozen=True)
class Check:
    """One command of the probe and when a client should see it refused."""

    label: str
    command: str
    refused_when: Expect
    rule: str


BEFORE_HELO = (
    Check(
        "MAIL before HELO",
        "MAIL FROM:<>",
        lambda p, port: bool(p & Privacy.needmailhelo) or port.requires_auth,
        "needmailhelo, M=a",
    ),
    Check(
        "VRFY before HELO",
        f"VRFY {PROBE_USER}",
        lambda p, port: bool(p & (Privacy.needvrfyhelo | Privacy.novrfy)),
        "needvrfyhelo, novrfy",
    ),
    Check(
        "EXPN before HELO",
        f"EXPN {PROBE_USER}",
        lambda p, port: bool(p & (Privacy.needexpnhelo | Privacy.noexpn)),
        "needexpnhelo, noexpn",
    ),
)
AFTER_EHLO = (
    Check("VRFY", f"VRFY {PROBE_USER}", lambda p, port: bool(p & Privacy.novrfy), "novrfy"),
    Check("EXPN", f"EXPN {PROBE_USER}", lambda p, port: bool(p & Privacy.noexpn), "noexpn"),
    Check(
        "ETRN",
        f"ETRN {PROBE_QUEUE}",
        lambda p, port: bool(p & Privacy.noetrn) or port.no_etrn,
        "noetrn, M=E",
    ),
    Check("VERB", "VERB", lambda p, port: effective_noverb(p), "noverb, noexpn"),
)
ADVERTISED: dict[str, Expect] = {
    "EXPN": lambda p, port: not p & Privacy.noexpn,
    "VERB": lambda p, port: not effective_noverb(p),
    "DSN": lambda p, port: not p & Privacy.noreceipts,
    "ETRN": lambda p, port: not p & Privacy.noetrn and not port.no_etrn,
}


def refused(command: str, reply: Reply) -> bool:
    """Whether ``reply`` refuses ``command``; novrfy's refusal is a 252, not a 5xx."""
    if reply.code in (502, 503, 530):
        return True
    return command.startswith("VRFY") and reply.lines[0].startswith("252 2.5.2 Cannot VRFY user")


def choose_listener(config: Config, name: str | None) -> DaemonPort:
    """The listener to probe: the one named, else the first plain one (no AUTH needed)."""
    ports = config.daemon_ports
    if name is not None:
        for port in ports:
            if port.name == name:
                if listener_target(port) is None or port.implicit_tls:
                    raise bad(f"privacy.probe: listener {name} cannot be probed in plain SMTP")
                return port
        known = ", ".join(p.name for p in ports) or "none"
        raise bad(f"privacy.probe: no listener named {name!r}; listeners: {known}")
    usable = [p for p in ports if listener_target(p) is not None and not p.implicit_tls]
    if not usable:
        raise RpcError(NOT_FOUND, "no listener speaks plain SMTP over TCP; nothing to probe")
    usable.sort(key=lambda p: p.requires_auth)
    return usable[0]


def _row(
    check: Check, stage: str, reply: Reply, privacy: Privacy, port: DaemonPort
) -> dict[str, Any]:
    got = refused(check.command, reply)
    expected = check.refused_when(privacy, port)
    return {
        "label": check.label,
        "stage": stage,
        "command": check.command,
        "reply": reply.text,
        "code": reply.code,
        "refused": got,
        "expected_refused": expected,
        "agrees": got == expected,
        "rule": check.rule,
    }


def probe(config: Config, port: DaemonPort) -> dict[str, Any]:
    """One probe of ``port`` (raises ``ProbeError`` when the conversation fails)."""
    target = listener_target(port)
    assert target is not None
    privacy = config.privacy
    rows: list[dict[str, Any]] = []
    with SmtpConversation(*target) as smtp:
        smtp.connect()
        greeting = smtp.greeting()
        if greeting.code != 220:
            return _result(config, port, target, greeting, rows, {}, [])
        for check in BEFORE_HELO:
            reply = smtp.command(check.command)
            rows.append(_row(check, "before HELO", reply, privacy, port))
            if check.command.startswith("MAIL") and reply.code == 250:
                smtp.command("RSET")
        ehlo = smtp.command(f"EHLO {PROBE_HELO}")
        keywords = [line[4:].split(" ")[0].upper() for line in ehlo.lines[1:]]
        for check in AFTER_EHLO:
            rows.append(_row(check, "after EHLO", smtp.command(check.command), privacy, port))
    advertised = [
        {
            "keyword": word,
            "advertised": word in keywords,
            "expected": expect(privacy, port),
            "agrees": (word in keywords) == expect(privacy, port),
        }
        for word, expect in ADVERTISED.items()
    ]
    return _result(config, port, target, greeting, rows, {"keywords": keywords}, advertised)


def _result(
    config: Config,
    port: DaemonPort,
    target: tuple[str, int],
    greeting: Reply,
    rows: list[dict[str, Any]],
    ehlo: dict[str, Any],
    advertised: list[dict[str, Any]],
) -> dict[str, Any]:
    agrees = bool(rows) and all(r["agrees"] for r in rows + advertised)
    return {
        "listener": port.name,
        "address": target[0],
        "port": target[1],
        "greeting": greeting.text,
        "privacy": privacy_names(config.privacy),
        "checks": rows,
        "ehlo": ehlo.get("keywords", []),
        "advertised": advertised,
        "matches_config": agrees,
    }


def privacy_probe(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    port = choose_listener(config, params.text("listener", max_length=64))
    try:
        return probe(config, port)
    except ProbeError as exc:
        running = daemon_state(config)["running"]
        hint = "" if running else " -- the daemon is not running"
        raise RpcError(NOT_FOUND, f"probing listener {port.name}: {exc}{hint}") from None


def listener_status(config: Config, port: DaemonPort) -> dict[str, Any]:
    """Whether ``port`` is bound, and what answers there."""
    entry: dict[str, Any] = {
        "name": port.name,
        "text": format_daemon_port(port),
        "optional": port.optional,
        "bound": False,
        "ours": False,
        "detail": "",
    }
    target = listener_target(port)
    if target is None:
        entry["detail"] = f"Family={port.family} is not checked (not a TCP listener)"
        return entry
    with SmtpConversation(*target, reply_timeout=STATUS_REPLY_TIMEOUT) as smtp:
        try:
            smtp.connect(timeout=STATUS_CONNECT_TIMEOUT)
        except ProbeError as exc:
            entry["detail"] = f"not bound: {exc}"
            return entry
        entry["bound"] = True
        if port.implicit_tls:
            entry["detail"] = f"bound: {target[0]} port {target[1]} accepts connections (TLS)"
            entry["ours"] = True
            return entry
        try:
            greeting = smtp.greeting()
        except ProbeError as exc:
            entry["detail"] = f"bound, but no SMTP greeting: {exc}"
            return entry
    entry["ours"] = "ESMTP Postroom" in greeting.text or config.host_name in greeting.text
    who = "" if entry["ours"] else " (another program answers: not this daemon)"
    entry["detail"] = f"bound: {target[0]} port {target[1]} answers {greeting.text[:120]}{who}"
    return entry


def ports_status(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    state = daemon_state(config)
    listeners = [listener_status(config, port) for port in config.daemon_ports]
    return {
        "running": state["running"],
        "pid": state["pid"],
        "listeners": listeners,
        "all_bound": all(
            item["bound"] and item["ours"] for item in listeners if not item["optional"]
        ),
    }
