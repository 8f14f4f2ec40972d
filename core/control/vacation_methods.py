"""``vacation.*``: the built-in per-user vacation responder over the RPC.

- ``vacation.get`` -- without ``user``: the users that have a settings file;
  with ``user``: that user's settings (defaults, off, when there is no file),
  the file's path and whether it exists.
- ``vacation.users`` -- what the GUI's list shows: each user with a settings
  file (on/off, active now, dates, or the reason the file is refused) and the
  local accounts a responder can be set for (LocalUsers, else passwd logins).
- ``vacation.set`` -- validate and write one user's settings; ``dry_run``
  only validates and returns the unified diff of the settings file.
- ``vacation.preview`` -- the exact reply a sender would get, built by the
  responder's own code (:func:`~postroom.core.vacation.reply_message`) for a
  sample incoming message, and whether that sender would be answered now.
- ``vacation.memory`` / ``vacation.forget`` -- the reply memory (who was
  answered when) and forgetting senders so they are answered again.

Every method answers ``not_available`` when VacationDirectory is not set, and a
refused value as ``bad_params`` with ``data.field`` naming the setting.
"""

from __future__ import annotations

import difflib
import pwd
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config.model import Config
from ..vacation import (
    ReplyMemory,
    ReplyMemoryError,
    SettingsError,
    VacationService,
    VacationSettings,
    list_users,
    load_settings,
    parse_incoming,
    reply_message,
    save_settings,
    settings_text,
    should_reply,
)
from ..vacation.responder import MEMORY_FILE
from ..vacation.settings import settings_path
from .context import Context, Stream
from .params import Params
from .protocol import BAD_PARAMS, IO_ERROR, NOT_AVAILABLE, RpcError

SAMPLE_SENDER = "friend@example.org"
SAMPLE_SUBJECT = "Lunch on Friday?"
MIN_LOGIN_UID = 1000
NOBODY_UID = 65534


def _vacation_dir(ctx: Context) -> Path:
    config = ctx.config()
    if config.vacation_directory is None:
        raise RpcError(NOT_AVAILABLE, "VacationDirectory is not set in the configuration")
    return Path(config.vacation_directory)


def _user(params: Params) -> str:
    return params.text("user", required=True, max_length=64) or ""


def _settings_error(exc: SettingsError) -> RpcError:
    return RpcError(BAD_PARAMS, str(exc), {"field": exc.field})


def _load(directory: Path, user: str) -> VacationSettings:
    try:
        return load_settings(directory, user)
    except SettingsError as exc:
        raise _settings_error(exc) from exc


def _proposed(params: Params) -> VacationSettings:
    try:
        return VacationSettings.from_json(params.raw.get("settings"))
    except SettingsError as exc:
        raise _settings_error(exc) from exc


def vacation_get(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    if not params.has("user"):
        return {"users": list_users(directory)}
    user = _user(params)
    settings = _load(directory, user).to_json()
    try:
        path = settings_path(directory, user)
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    return {"user": user, "settings": settings, "path": str(path), "exists": path.exists()}


def local_accounts(config: Config) -> list[str]:
    """LocalUsers when configured, else root and the passwd logins (uid >= 1000, not nobody)."""
    if config.local_users:
        return sorted({u.lower() for u in config.local_users})
    names = {"root"}
    for entry in pwd.getpwall():
        if MIN_LOGIN_UID <= entry.pw_uid < NOBODY_UID:
            names.add(entry.pw_name.lower())
    return sorted(names)


def vacation_users(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    config = ctx.config()
    now = time.time()
    users: list[dict[str, Any]] = []
    for name in list_users(directory):
        row: dict[str, Any] = {"user": name}
        try:
            settings = load_settings(directory, name)
        except SettingsError as exc:
            row.update(enabled=False, active=False, error=str(exc))
        else:
            row.update(
                enabled=settings.enabled,
                active=settings.active(now),
                start=settings.start.isoformat() if settings.start else None,
                end=settings.end.isoformat() if settings.end else None,
            )
        users.append(row)
    return {"directory": str(directory), "users": users, "accounts": local_accounts(config)}


def vacation_set(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    user = _user(params)
    settings = _proposed(params)
    try:
        path = settings_path(directory, user)
        new_text = settings_text(settings)
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    try:
        old_text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise RpcError(IO_ERROR, f"{path}: {exc}") from exc
    diff = "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            f"a/{path.name}" if old_text else "/dev/null",
            f"b/{path.name}",
        )
    )
    answer: dict[str, Any] = {
        "user": user,
        "path": str(path),
        "settings": settings.to_json(),
        "diff": diff,
        "changed": old_text != new_text,
        "written": False,
    }
    if params.boolean("dry_run"):
        return answer
    try:
        save_settings(directory, user, settings)
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{directory}: {exc.strerror}") from exc
    answer["written"] = True
    answer["active"] = settings.active(time.time())
    return answer


class _NoMemory:
    """An empty reply memory (nothing was ever answered) for the preview's decision."""

    def last_reply(self, user: str, sender: str) -> int | None:
        return None

    def sent_since(self, since: float) -> int:
        return 0


def _sample_message(user_address: str, sender: str, subject: str) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {user_address}",
        f"Subject: {subject}",
        "Message-ID: <preview.1@example.org>",
        "",
        "(sample message)",
    ]
    return "\n".join(lines).encode("utf-8")


def vacation_preview(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    config = ctx.config()
    user = _user(params)
    try:
        settings_path(directory, user)
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    settings = _proposed(params)
    sender = params.text("sender", SAMPLE_SENDER, max_length=320) or SAMPLE_SENDER
    subject = params.text("subject", SAMPLE_SUBJECT, max_length=200) or ""
    service = VacationService(
        directory,
        host_name=config.host_name,
        local_domains=config.local_domains,
        submit=lambda *_args: None,
    )
    who = service.user(user)
    address = sorted(who.addresses)[0] if who.addresses else f"{user}@{config.host_name}"
    message = parse_incoming(_sample_message(address, sender, subject))
    now = time.time()
    with _memory(directory) as memory:
        known = memory or _NoMemory()
        limit = service.rate_limit
        decision = should_reply(message, sender, who, settings, known, now, rate_limit=limit)
    reply = reply_message(
        message,
        envelope_sender=sender,
        user=who,
        settings=settings,
        now=now,
        host_name=config.host_name,
    )
    return {
        "user": user,
        "envelope": {"sender": "<>", "recipient": sender},
        "incoming": {"from": sender, "to": address, "subject": subject},
        "reply": reply.decode("utf-8"),
        "would_reply": decision.reply,
        "reason": decision.reason,
    }


@contextmanager
def _memory(directory: Path) -> Iterator[ReplyMemory | None]:
    """The reply memory when it exists (never created here), else None."""
    path = directory / MEMORY_FILE
    if not path.exists():
        yield None
        return
    try:
        memory = ReplyMemory(path)
    except ReplyMemoryError as exc:
        raise RpcError(IO_ERROR, str(exc)) from exc
    try:
        yield memory
    finally:
        memory.close()


def vacation_memory(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    user = _user(params)
    try:
        settings_path(directory, user)
        with _memory(directory) as memory:
            entries = memory.entries(user) if memory is not None else []
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    except ReplyMemoryError as exc:
        raise RpcError(IO_ERROR, str(exc)) from exc
    ordered = sorted(entries, key=lambda e: (e[1] == 0, -e[1], e[0]))  # newest first
    rows = [{"sender": key, "time": when, "excluded": when == 0} for key, when in ordered]
    return {"user": user, "path": str(directory / MEMORY_FILE), "entries": rows}


def vacation_forget(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    directory = _vacation_dir(ctx)
    user = _user(params)
    senders = params.strings("senders", max_items=10_000, max_length=320)
    everything = params.boolean("all")
    if not everything and not senders:
        raise RpcError(BAD_PARAMS, "vacation.forget: give senders (a list) or all: true")
    try:
        settings_path(directory, user)
        with _memory(directory) as memory:
            if memory is None:
                return {"user": user, "forgotten": 0}
            if everything:
                senders = [key for key, _when in memory.entries(user)]
            forgotten = memory.forget(user, senders or [])
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    except ReplyMemoryError as exc:
        raise RpcError(IO_ERROR, str(exc)) from exc
    return {"user": user, "forgotten": forgotten}
