"""The *local* agent: delivery to a mailbox in ``MailSpoolDirectory``.

One mailbox per user, named after the user (lower case): an mbox file
(``From `` line, ``>From`` escaping, fcntl + dot-lock, fsync) or, with
``MailboxFormat = "maildir"``, a Maildir folder of that name.  Who has a
mailbox is decided by the receiver's rule (:func:`..receive.setup.local_user_checker`:
``LocalUsers`` when configured, else system accounts).  When we are root
and the user is a system account, a new mailbox is given to that user.
The message gets ``Return-Path:`` (from the qf) and ``Delivered-To:``
(used to detect forwarding loops).  File work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import pwd
import re
from collections.abc import Callable
from pathlib import Path

from ..config.model import Config
from ..logging.maillog import MailLog
from ..receive.setup import local_user_checker
from ..vacation import VacationError, VacationService
from .address import Target
from .maildir import deliver_maildir
from .mbox import MailboxError, append_mbox
from .message import MessageSource, mbox_chunks, plain_chunks
from .outcome import EX_CANTCREAT, EX_NOUSER, Outcome, deferred, failed, sent

_USER = re.compile(r"[a-z0-9_][a-z0-9._-]{0,63}")


class LocalAgent:
    """Delivers to local mailboxes."""

    def __init__(
        self,
        config: Config,
        *,
        lock_timeout: float = 60.0,
        vacation: VacationService | None = None,
        log: MailLog | None = None,
    ) -> None:
        self.config = config
        self.vacation = vacation
        self.log = log
        self.spool = Path(config.mail_spool_directory)
        self.maildir = config.mailbox_format == "maildir"
        self.known: Callable[[str], bool] = local_user_checker(config)
        self.system_accounts = not config.local_users
        self.lock_timeout = lock_timeout

    def delivered_to(self, target: Target) -> str:
        """The ``Delivered-To:`` value for ``target``."""
        return f"{target.local_part.lower()}@{(target.domain or self.config.host_name).lower()}"

    async def deliver(self, target: Target, source: MessageSource) -> Outcome:
        """Deliver ``source`` to the mailbox of ``target``."""
        user = target.local_part.lower()
        if not _USER.fullmatch(user) or not self.known(user):
            text = f"550 5.1.1 {target.shown}... User unknown"
            return failed("User unknown", status="5.1.1", diagnostic=text, exit_status=EX_NOUSER)
        return await asyncio.to_thread(self._write, user, target, source)

    def _write(self, user: str, target: Target, source: MessageSource) -> Outcome:
        uid = gid = None
        if self.system_accounts:
            try:
                entry = pwd.getpwnam(user)
                uid, gid = entry.pw_uid, entry.pw_gid
            except KeyError:
                pass
        headers = source.header_bytes("local", [("Delivered-To", self.delivered_to(target))])
        path = self.spool / user
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            if self.maildir:
                deliver_maildir(path, plain_chunks(source, headers), uid=uid, gid=gid)
            else:
                append_mbox(
                    path,
                    mbox_chunks(source, headers),
                    uid=uid,
                    gid=gid,
                    lock_timeout=self.lock_timeout,
                )
        except MailboxError as exc:
            if exc.temporary:
                return deferred(f"Deferred: {exc}", status="4.2.0", diagnostic=str(exc))
            text = f"550 5.2.0 {target.shown}... Can't create output: {exc}"
            return failed(
                "Can't create output", status="5.2.0", diagnostic=text, exit_status=EX_CANTCREAT
            )
        except OSError as exc:
            return deferred(f"Deferred: {exc.strerror}", status="4.2.0", diagnostic=str(exc))
        self._vacation(user, source)
        return sent("Sent", mailer="local")

    def _vacation(self, user: str, source: MessageSource) -> None:
        """The built-in responder; a problem with it never affects the delivery."""
        if self.vacation is None:
            return
        try:
            decision = self.vacation.handle(
                user, source.header_bytes("local") + b"\n", source.return_path
            )
        except (VacationError, OSError) as exc:
            decision_text = f"vacation for {user}: {exc}"
        else:
            decision_text = f"vacation for {user}: {decision.reason}"
        if self.log is not None:
            self.log.log(10, decision_text)
