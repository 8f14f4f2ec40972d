"""The vacation auto-responder (RFC 3834): the ``vacation`` program and the built-in responder.

Public API (each module's docstring states its rules):

- settings (what the GUI edits): :class:`VacationSettings`, :func:`load_settings`,
  :func:`save_settings`, :func:`settings_text`, :func:`delete_settings`, :func:`list_users`,
  :class:`SettingsError` (``field`` names the bad value);
- the decision: :func:`should_reply` -> :class:`Decision` ``(reply, reason)``,
  :class:`VacationUser`, :class:`RateLimit`;
- the reply: :func:`reply_message` (what the responder sends), :func:`build_reply`,
  :func:`build_file_reply`, :func:`clean_header_text`;
- memory: :class:`ReplyMemory` (SQLite, bounded, survives restarts);
- the built-in hook: :class:`VacationService` (``handle(user, message, sender)``),
  :func:`respond`, ``Submit`` = ``submit(sender, recipients, message_bytes)``;
- the program: :func:`vacation_main` (``vacation`` link name);
- Postroom's queue as ``submit``: :func:`queue_submitter` (``submit`` module);
- messages: :func:`parse_incoming`, :func:`read_incoming`, :class:`IncomingMessage`.

Module map: ``incoming`` -> ``rules`` (+ ``memory``, ``settings``) -> ``reply`` ->
``responder`` (built-in) / ``cli`` (program).
"""

from .cli import main as vacation_main
from .errors import ReplyMemoryError, SettingsError, VacationError
from .incoming import IncomingMessage, parse_incoming, read_incoming
from .memory import ReplyMemory
from .reply import build_file_reply, build_reply, clean_header_text
from .responder import Submit, VacationService, reply_message, respond
from .rules import Decision, RateLimit, VacationUser, should_reply
from .settings import (
    VacationSettings,
    delete_settings,
    list_users,
    load_settings,
    save_settings,
    settings_text,
)
from .submit import queue_submitter

__all__ = [
    "Decision",
    "IncomingMessage",
    "RateLimit",
    "ReplyMemory",
    "ReplyMemoryError",
    "SettingsError",
    "Submit",
    "VacationError",
    "VacationService",
    "VacationSettings",
    "VacationUser",
    "build_file_reply",
    "build_reply",
    "clean_header_text",
    "delete_settings",
    "list_users",
    "load_settings",
    "parse_incoming",
    "queue_submitter",
    "read_incoming",
    "reply_message",
    "respond",
    "save_settings",
    "settings_text",
    "should_reply",
    "vacation_main",
]
