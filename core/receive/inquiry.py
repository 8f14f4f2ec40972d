"""VRFY, EXPN, ETRN, VERB and HELP, with PrivacyOptions applied as Sendmail applies them.

Reply texts are Sendmail 8.17's (SENDMAIL.md §4.1–4.2). Refusals are logged at
LogLevel 6 as ``<client>: <command line> [rejected]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .. import __version__
from ..policy.privacy import Privacy
from .commands import Command, echo

if TYPE_CHECKING:
    from .session import SmtpSession

REFUSED = "502 5.7.0 Sorry, we do not allow this operation"
INTRODUCE = "503 5.0.0 I demand that you introduce yourself first"
HELP_TOPICS = [
    f"2.0.0 This is Postroom version {__version__}",
    "2.0.0 Topics:",
    "2.0.0 \tHELO\tEHLO\tMAIL\tRCPT\tDATA",
    "2.0.0 \tRSET\tNOOP\tQUIT\tHELP\tVRFY",
    "2.0.0 \tEXPN\tVERB\tETRN\tDSN\tAUTH",
    "2.0.0 \tSTARTTLS",
    '2.0.0 For more info use "HELP <topic>".',
    "2.0.0 End of HELP info",
]


def register_inquiry(
    session: SmtpSession, table: dict[str, Callable[[Command], Awaitable[None]]]
) -> None:
    table["VRFY"] = lambda cmd: do_vrfy(session, cmd)
    table["EXPN"] = lambda cmd: do_expn(session, cmd)
    table["ETRN"] = lambda cmd: do_etrn(session, cmd)
    table["VERB"] = lambda cmd: do_verb(session, cmd)
    table["HELP"] = lambda cmd: do_help(session, cmd)


def _rejected(session: SmtpSession, cmd: Command, reply: str) -> None:
    session.log(6, f"{session.client_name}: {cmd.verb} {echo(cmd.arg)} [rejected]")
    session.reply(reply)


def _local_name(session: SmtpSession, arg: str) -> str | None:
    """The local user an argument names, or None when it is not a local address."""
    name = arg.strip().removeprefix("<").removesuffix(">")
    local, at, domain = name.rpartition("@")
    if not at:
        return name
    if domain.lower() in session.ctx.config.local_domains:
        return local
    return None


async def do_vrfy(session: SmtpSession, cmd: Command) -> None:
    p = session.privacy
    if p & Privacy.needvrfyhelo and session.helo is None:
        _rejected(session, cmd, INTRODUCE)
        return
    if p & Privacy.novrfy:
        _rejected(
            session, cmd, "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try finger)"
        )
        return
    if not cmd.arg:
        session.reply("501 5.5.2 Argument required")
        return
    session.log(6, f"{session.client_name}: VRFY {echo(cmd.arg)}")
    user = _local_name(session, cmd.arg)
    if user is None:
        session.reply("252 2.5.2 Cannot VRFY non-local address; send some mail to it")
    elif session.ctx.local_user_known(user):
        session.reply(f"250 2.1.5 <{user}@{session.host}>")
    else:
        session.reply(f"550 5.1.1 {echo(cmd.arg)}... User unknown")


async def do_expn(session: SmtpSession, cmd: Command) -> None:
    p = session.privacy
    if p & Privacy.needexpnhelo and session.helo is None:
        _rejected(session, cmd, INTRODUCE)
        return
    if p & Privacy.noexpn:
        _rejected(session, cmd, REFUSED)
        return
    if not cmd.arg:
        session.reply("501 5.5.2 Argument required")
        return
    session.log(6, f"{session.client_name}: EXPN {echo(cmd.arg)}")
    user = _local_name(session, cmd.arg)
    if user is not None and session.ctx.local_user_known(user):
        session.reply(f"250 2.1.5 <{user}@{session.host}>")
    else:
        session.reply(f"550 5.1.1 {echo(cmd.arg)}... User unknown")


async def do_etrn(session: SmtpSession, cmd: Command) -> None:
    if session.privacy & Privacy.noetrn or "E" in session.listener.port.modifiers:
        _rejected(session, cmd, REFUSED)
        return
    if not cmd.arg:
        session.reply("500 5.5.2 Parameter required")
        return
    if cmd.arg.startswith("#"):
        session.reply(f"459 4.5.4 Queue {echo(cmd.arg[1:])} unknown")
        return
    session.log(6, f"{session.client_name}: ETRN {echo(cmd.arg)}")
    if session.ctx.etrn is not None:
        try:
            session.ctx.etrn(cmd.arg)
        except ValueError:
            session.reply(f"501 5.5.4 Invalid ETRN argument {echo(cmd.arg)}")
            return
    session.reply(f"250 2.0.0 Queuing for node {echo(cmd.arg)} started")


async def do_verb(session: SmtpSession, cmd: Command) -> None:
    if session.privacy & (Privacy.noverb | Privacy.noexpn):
        _rejected(session, cmd, "502 5.7.0 Verbose unavailable")
        return
    session.verbose = True
    session.reply("250 2.0.0 Verbose mode")


async def do_help(session: SmtpSession, cmd: Command) -> None:
    session.reply_lines("214", HELP_TOPICS)
