"""The method table: every method's handler, the params it accepts, and a summary.

``METHODS`` maps ``area.verb`` to a :class:`~.context.Method`; the server refuses
params a method does not list (``bad_params``) before calling it.  Methods named in
:mod:`.registry_text` answer ``not_available``.
"""

from __future__ import annotations

from .alias_methods import aliases_check, aliases_get, aliases_rebuild, aliases_set
from .config_methods import config_diff, config_get, config_set
from .context import Handler, Method
from .daemon_methods import daemon_reload, daemon_status
from .events import events_subscribe, events_unsubscribe
from .hosts_methods import hosts_list, hosts_purge
from .info_methods import server_info
from .log_methods import log_tail
from .probe_methods import ports_status, privacy_probe
from .queue_edit import queue_delete, queue_hold, queue_release
from .queue_methods import queue_list, queue_shape, queue_show
from .run_methods import daemon_start, queue_run
from .send_test_methods import server_send_test
from .settings_methods import ports_get, ports_set, privacy_get, privacy_set
from .stats_methods import stats_series, stats_totals
from .vacation_methods import (
    vacation_forget,
    vacation_get,
    vacation_memory,
    vacation_preview,
    vacation_set,
    vacation_users,
)

_LIST = ("queues", "sender", "recipient", "domain", "status", "queue_id", "min_age", "sort",
         "descending", "offset", "limit", "row_format")  # fmt: skip
_EDIT = ("dry_run", "base_sha256", "reload")
_PREVIEW = ("user", "settings", "sender", "subject")


def _m(name: str, handler: Handler, params: tuple[str, ...], summary: str) -> Method:
    return Method(name, handler, frozenset(params), summary)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        _m("server.info", server_info, (), "protocol version, server, config, rights"),
        _m("queue.list", queue_list, _LIST, "the queue as rows (streamed)"),
        _m("queue.show", queue_show, ("id", "body_bytes"), "one job in full"),
        _m("queue.shape", queue_shape, ("queues", "by", "top"), "domains x age buckets"),
        _m("queue.delete", queue_delete, ("id", "ids"), "remove jobs"),
        _m("queue.hold", queue_hold, ("id", "ids", "reason"), "quarantine jobs"),
        _m("queue.release", queue_release, ("id", "ids"), "release held jobs"),
        _m("queue.run", queue_run, ("id", "ids"), "deliver now (streams the -v transcript)"),
        _m("hosts.list", hosts_list, (), "persistent host status (hoststat)"),
        _m("hosts.purge", hosts_purge, ("all",), "purge expired host status (purgestat)"),
        _m("stats.totals", stats_totals, (), "the statistics file (mailstats)"),
        _m("stats.series", stats_series, ("start", "end", "resolution"), "time series"),
        _m("daemon.start", daemon_start, (), "start postroom-mta -bd -q30m"),
        _m("server.send_test", server_send_test, ("to",), "a test message, delivered at once"),
        _m("aliases.get", aliases_get, (), "the aliases file, parsed, and the compiled table"),
        _m("aliases.set", aliases_set, ("text", "rebuild", "base_sha256"), "replace the file"),
        _m("aliases.rebuild", aliases_rebuild, (), "newaliases"),
        _m("vacation.get", vacation_get, ("user",), "vacation users, or one user's settings"),
        _m("vacation.set", vacation_set, ("user", "settings", "dry_run"), "set a user's vacation"),
        _m("config.get", config_get, (), "the config file, values and option docs"),
        _m("config.diff", config_diff, ("changes", "base_sha256", "reload"), "show a change"),
        _m("config.set", config_set, ("changes", *_EDIT), "change the config file"),
        _m("privacy.get", privacy_get, (), "PrivacyOptions with explanations"),
        _m("privacy.set", privacy_set, ("flags", *_EDIT), "set PrivacyOptions"),
        _m("ports.get", ports_get, (), "DaemonPortOptions with explanations"),
        _m("ports.set", ports_set, ("listeners", *_EDIT), "set DaemonPortOptions"),
        _m("daemon.status", daemon_status, (), "whether the daemon runs"),
        _m("daemon.reload", daemon_reload, (), "SIGHUP the daemon"),
        _m("log.tail", log_tail, ("lines", "offset", "source"), "the end of LogFile"),
        _m("privacy.probe", privacy_probe, ("listener",), "what a client sees over SMTP"),
        _m("ports.status", ports_status, (), "whether each listener is bound"),
        _m("events.subscribe", events_subscribe, ("events", "interval"), "start events"),
        _m("events.unsubscribe", events_unsubscribe, ("events",), "stop events"),
        _m("aliases.check", aliases_check, ("text", "keys", "name", "targets"), "judge a new text"),
        _m("vacation.users", vacation_users, (), "vacation users and local accounts"),
        _m("vacation.preview", vacation_preview, _PREVIEW, "the reply a sender would get"),
        _m("vacation.memory", vacation_memory, ("user",), "who was answered when"),
        _m("vacation.forget", vacation_forget, ("user", "senders", "all"), "answer again"),
    )
}
