"""Building a ``ReceiverContext`` from a ``Config``: store, committer, policy, TLS, AUTH."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from pathlib import Path

from ..aliases import AliasError
from ..aliases.setup import alias_cache
from ..config.model import Config
from ..logging.maillog import MailLog
from ..logging.traffic import TrafficLog
from ..policy.auth_users import AuthUsers
from ..policy.relay import RelayPolicy
from ..queue.commit import Committer
from ..queue.store import GroupCommitter, QueueStore
from ..stats.recorder import StatsRecorder
from .context import ReceiverContext, server_tls_context
from .maps import load_receiver_maps


def local_user_checker(config: Config) -> Callable[[str], bool]:
    """Who receives mail here: aliases, LocalUsers when configured, else system accounts."""
    configured = {u.lower() for u in config.local_users}
    aliases = alias_cache(config)

    def is_alias(name: str) -> bool:
        if aliases is None:
            return False
        try:
            return aliases.get().lookup(name) is not None
        except AliasError:
            return False  # the broken file is reported by the runner; RCPT stays strict

    def known(name: str) -> bool:
        lname = name.lower()
        if lname == "postmaster" or lname in configured or is_alias(name):
            return True
        if configured:
            return False
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    return known


def build_context(
    config: Config,
    *,
    log: MailLog,
    traffic: TrafficLog | None = None,
    store: QueueStore | None = None,
    committer: Committer | None = None,
    stats: StatsRecorder | None = None,
) -> ReceiverContext:
    """Everything sessions need; raises ``OSError``/``ssl.SSLError`` on unreadable TLS files."""
    store = store or QueueStore(Path(config.queue_directory), fsync=config.super_safe)
    committer = committer or GroupCommitter(store)  # no thread until its first commit
    known = local_user_checker(config)
    relay = RelayPolicy(
        local_domains=config.local_domains,
        relay_domains=config.relay_domains,
        relay_from=config.relay_from,
        local_user_known=known,
    )
    auth = AuthUsers.load(Path(config.auth_users_file)) if config.auth_users_file else None
    tls = None
    if config.server_cert_file and config.server_key_file:
        tls = server_tls_context(str(config.server_cert_file), str(config.server_key_file))
    return ReceiverContext(
        config=config,
        store=store,
        committer=committer,
        relay=relay,
        log=log,
        local_user_known=known,
        stats=stats or recorder_for(config, log),
        maps=load_receiver_maps(config, lambda text: log.log(1, text)),
        auth_users=auth,
        tls=tls,
        traffic=traffic,
    )


def login_name() -> str:
    """The invoking user's login name (for -bs/-bm submissions)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def recorder_for(config: Config, log: MailLog) -> StatsRecorder:
    """The statistics recorder for ``config``'s StatusFile and TimeSeriesFile."""
    return StatsRecorder(
        config.status_file, config.time_series_file, log=lambda text: log.log(1, text)
    )
