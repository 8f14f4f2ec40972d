"""Handing a reply to Postroom's own queue: :func:`queue_submitter` -> a ``Submit`` callable.

The vacation code only ever calls ``submit(sender, recipients, message_bytes)``
(``sender`` ``""`` = ``MAIL FROM:<>``).  :func:`queue_submitter` binds that to
:func:`..receive.submit.submit` on the configuration's queue, as a local
submission with ``-i`` semantics (a line holding only ``.`` is data).  The
null sender becomes Sendmail's ``MAILER-DAEMON`` in the qf, which the queue
runner sends as ``MAIL FROM:<>``.  A refused or failed submission raises
:class:`..errors.VacationError` with the submitter's messages, so nothing is
recorded as answered.

``user`` is the local login recorded as the submitter (``Received: from
<user>@localhost``); it defaults to ``root`` because the reply is made by the
MTA itself -- any other name with a null sender would earn an
``X-Authentication-Warning`` under PrivacyOptions ``authwarnings``.  Writing
into the queue needs the MTA's rights: use this in the process that runs the
delivery agent (or as root), not in a program running as the mailbox owner.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from ..config.model import Config
from ..queue.store import QueueStore
from ..receive.submit import SubmitOptions, submit
from .errors import VacationError
from .responder import Submit


def queue_submitter(
    config: Config, *, store: QueueStore | None = None, user: str = "root"
) -> Submit:
    """A ``submit(sender, recipients, message_bytes)`` that queues into ``config``'s queue."""
    queue = store or QueueStore(Path(config.queue_directory), fsync=config.super_safe)

    def submit_reply(sender: str, recipients: Sequence[str], data: bytes) -> str:
        options = SubmitOptions(
            recipients=tuple(recipients), sender=sender, ignore_dots=True, user=user
        )
        result = submit(config, queue, options, io.BytesIO(data))
        if result.status != 0 or result.qid is None:
            detail = "; ".join(result.errors) or f"exit status {result.status}"
            raise VacationError(f"reply not queued: {detail}")
        return result.qid

    return submit_reply
