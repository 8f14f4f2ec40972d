"""Delivery: the queue runner, the delivery agents, DSNs (issue 3, "MTA core, part 2").

Public API (see each module's docstring):

- runs: :class:`QueueRunner` (``run_once``, ``run_periodically``),
  :func:`run_queue` (``-q`` once, synchronous), :func:`etrn_selection`,
  :func:`host_status_store`, :class:`RunReport`
- one job: :func:`process_job`, :class:`JobReport`, :class:`JobStatus`
- outcomes: :class:`Outcome`, :class:`Result`
- agents: :class:`LocalAgent`, :class:`FileAgent`, :class:`ProgramAgent`,
  :class:`SmtpAgent`, :class:`MailRouter` (MX lookup), :class:`SmtpConnection`
- transcripts: :class:`Transcript`, :func:`remove_stale_transcripts`
- DSNs: :func:`build_body`, :func:`queue_report`, :func:`plan`

Module map: ``runner`` (runs) -> ``scan`` (which jobs, in what order) ->
``job`` (one attempt: lock, read, dispatch, DSNs, rewrite) -> ``dispatch``
(recipient -> agent) -> ``local``/``mbox``/``maildir``, ``fileagent``,
``program``, ``smtp`` (+ ``mx``, ``smtpclient``, ``pool``, ``hosts``);
``notify`` decides DSNs, ``dsn`` writes them, ``dsnqueue`` queues them,
``qfupdate`` rewrites the qf, ``transcript`` keeps the xf and ``-v`` output.
"""

from .dsn import build_body
from .dsnqueue import queue_report
from .fileagent import FileAgent
from .job import JobReport, JobStatus, process_job
from .local import LocalAgent
from .mx import MailRouter
from .notify import plan
from .outcome import Outcome, Result
from .program import ProgramAgent
from .runner import QueueRunner, RunReport, etrn_selection, host_status_store, run_queue
from .smtp import SmtpAgent
from .smtpclient import SmtpConnection
from .transcript import Transcript, remove_stale_transcripts

__all__ = [
    "FileAgent",
    "JobReport",
    "JobStatus",
    "LocalAgent",
    "MailRouter",
    "Outcome",
    "ProgramAgent",
    "QueueRunner",
    "Result",
    "RunReport",
    "SmtpAgent",
    "SmtpConnection",
    "Transcript",
    "build_body",
    "etrn_selection",
    "host_status_store",
    "plan",
    "process_job",
    "queue_report",
    "remove_stale_transcripts",
    "run_queue",
]
