"""Carrying out a parsed ``postroom-mta`` invocation: load the configuration, run the mode.

Kept apart from :mod:`.cli` (which only parses) so the daemon, the queue
listing and submission can be driven from tests with an ``Invocation``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from .aliases import makemap_main, run_newaliases, run_praliases, run_verify
from .cli import (
    EX_CONFIG,
    EX_NOPERM,
    EX_OK,
    EX_OSERR,
    EX_UNAVAILABLE,
    EX_USAGE,
    NOT_YET,
    Invocation,
)
from .config.durations import parse_duration
from .config.loader import ConfigError, load_config
from .config.model import Config
from .hoststat import (
    HostStatusError,
    HostStatusStore,
    check_purge_permission,
    format_hoststat,
    purge,
)
from .logging.maillog import MailLog
from .logging.traffic import TrafficLog
from .mailq_command import config_path as config_path
from .mailq_command import list_queue
from .mailq_command import may_see_queue as may_see_queue
from .policy.privacy import Privacy
from .queue.store import QueueStore
from .stats import mailstats_main
from .stats.recorder import StatsRecorder
from .vacation import queue_submitter, vacation_main
from .vacation.reply_channel import ENV as REPLY_FD_ENV
from .vacation.reply_channel import pipe_submitter


def run(inv: Invocation, name: str) -> int:
    """Run ``inv``; returns a sysexits status."""
    if inv.rpc:
        from .control.entry import run_rpc

        return run_rpc(config_path(inv), tuple(inv.overrides))
    if inv.mode in NOT_YET:
        print(f"{name}: {NOT_YET[inv.mode]}", file=sys.stderr)
        return EX_UNAVAILABLE
    try:
        config = load_config(config_path(inv), tuple(inv.overrides))
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_CONFIG
    if inv.mode == "p":
        return list_queue(config, inv, name)
    if inv.mode == "P":
        count = sum(1 for e in os.scandir(config.queue_directory) if e.name.startswith("qf"))
        print(f"\t\t{config.queue_directory}: entries={count}")
        return EX_OK
    if inv.mode == "i":
        return run_newaliases(config, sys.stdout, sys.stderr)
    if inv.mode == "v":
        return run_verify(config, inv.recipients, sys.stdout, sys.stderr)
    if inv.mode == "h":
        store = HostStatusStore(config.host_status_directory)
        sys.stdout.write(format_hoststat(store, verbose=inv.verbose))
        return EX_OK
    if inv.mode == "H":
        return purge_host_status(config, name)
    if inv.mode in ("D", "d"):
        return run_daemon_mode(config, inv, name)
    if inv.mode == "s":
        return run_stdio(config, inv)
    if inv.queue_args and not inv.recipients:
        return run_queue_once(config, inv, name)
    return run_submit(config, inv, name)


def queue_interval(queue_args: list[str]) -> float | None:
    """The interval of ``-q30m`` (seconds), or None when no -q flag carries one."""
    for arg in queue_args:
        body = arg[2:]
        if body and body[0].isdigit():
            return parse_duration(body, "m")
    return None


def may_run_queue(config: Config) -> bool:
    """restrictqrun: only root and the owner of the queue directory."""
    if not config.privacy & Privacy.restrictqrun or os.getuid() == 0:
        return True
    try:
        return os.stat(config.queue_directory).st_uid == os.getuid()
    except OSError:
        return False


def run_queue_once(config: Config, inv: Invocation, name: str) -> int:
    """``-q``, ``-qf``, ``-qI/-qR/-qS[!]...``, ``-qQ``: one run in the foreground."""
    from .deliver import run_queue

    if not may_run_queue(config):
        print("You do not have permission to process the queue", file=sys.stderr)
        return EX_NOPERM
    if queue_interval(inv.queue_args) is not None:
        print(f"{name}: a periodic queue runner needs -bD or -bd", file=sys.stderr)
        return EX_USAGE
    log = MailLog(config.log_level, config.log_file)
    stats = StatsRecorder(config.status_file, config.time_series_file)
    try:
        run_queue(
            config,
            inv.queue_args,
            verbose=sys.stdout if inv.verbose else None,
            log=log,
            stats=stats,
            traffic=TrafficLog(inv.traffic) if inv.traffic else None,
        )
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_USAGE
    finally:
        stats.close()
    return EX_OK


def run_daemon_mode(config: Config, inv: Invocation, name: str) -> int:
    from .receive.daemon import run_daemon
    from .receive.server import ListenerError

    try:
        return run_daemon(
            config,
            overrides=tuple(inv.overrides),
            traffic_path=inv.traffic,
            background=inv.mode == "d",
            queue_interval=queue_interval(inv.queue_args),
        )
    except ListenerError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_OSERR


def run_stdio(config: Config, inv: Invocation) -> int:
    from .receive.setup import build_context, login_name
    from .receive.stdio import serve_stdio

    log = MailLog(config.log_level, config.log_file)
    traffic = TrafficLog(inv.traffic) if inv.traffic else None
    context = build_context(config, log=log, traffic=traffic)
    try:
        asyncio.run(serve_stdio(context, login_name()))
    finally:
        context.committer.close()
        context.stats.close()
    return EX_OK


def run_submit(config: Config, inv: Invocation, name: str) -> int:
    from .receive.setup import login_name
    from .receive.submit import SubmitOptions, submit

    if not inv.recipients and not inv.from_headers:
        print(f"{name}: Recipient names must be specified", file=sys.stderr)
        return EX_USAGE
    store = QueueStore(Path(config.queue_directory), fsync=config.super_safe)
    result = submit(
        config,
        store,
        SubmitOptions(
            recipients=tuple(inv.recipients),
            sender=inv.sender,
            full_name=inv.full_name,
            ignore_dots=inv.ignore_dots,
            from_headers=inv.from_headers,
            user=login_name(),
        ),
        stats=StatsRecorder(config.status_file, config.time_series_file),
    )
    for line in result.errors:
        print(line, file=sys.stderr)
    return result.status


def purge_host_status(config: Config, name: str) -> int:
    """purgestat / -bH: only root (Sendmail's TrustedUser rule) may purge."""
    try:
        check_purge_permission()
    except HostStatusError:
        print("Permission denied (real uid not trusted)", file=sys.stderr)
        return EX_NOPERM
    if config.host_status_directory.is_dir():
        purge(config.host_status_directory, timeout=config.timeouts["hoststatus"])
    return EX_OK


def run_mailstats(args: list[str]) -> int:
    """``mailstats [-C config] [-f file] [-o] [-p] [-P]``.

    ``-C`` names Postroom's configuration (for the default StatusFile); the
    rest are Sendmail's mailstats flags.
    """
    rest: list[str] = []
    chosen: Path | None = None
    items = iter(args)
    for arg in items:
        if arg == "-C":
            chosen = Path(next(items, ""))
        elif arg.startswith("-C"):
            chosen = Path(arg[2:])
        else:
            rest.append(arg)
    try:
        config = load_config(config_path(Invocation(config=chosen)), ())
    except ConfigError as exc:
        print(f"mailstats: {exc}", file=sys.stderr)
        return EX_CONFIG
    return mailstats_main(rest, config.status_file)


def _config_for(path: Path | None) -> Config:
    return load_config(config_path(Invocation(config=path)), ())


def run_own_flags_command(mode: str, args: list[str]) -> int:
    """Link names whose flags are their own: mailstats, praliases, makemap, vacation."""
    if mode == "mailstats":
        return run_mailstats(args)
    if mode == "makemap":
        return makemap_main(args)
    try:
        if mode == "praliases":
            return run_praliases(args, _config_for, sys.stdout, sys.stderr)
        # vacation runs from a delivery agent: the configuration comes from POSTROOM_CONFIG.
        named = os.environ.get("POSTROOM_CONFIG")
        config = _config_for(Path(named) if named else None)
    except ConfigError as exc:
        print(f"{mode}: {exc}", file=sys.stderr)
        return EX_CONFIG
    channel = os.environ.get(REPLY_FD_ENV, "")
    submit = pipe_submitter(int(channel)) if channel.isdigit() else queue_submitter(config)
    return vacation_main(args, submit=submit, host_name=config.host_name)
