"""Explanations of the PrivacyOptions flags for people: one line and a paragraph each.

Owns ``PRIVACY_HELP``, keyed by Sendmail's flag name (the keys of
``privacy.PRIVACY_VALUES``), which the GUI's Privacy checklist shows beside each box and
``-bP`` may print.  The texts follow SENDMAIL.md section 4 and quote the exact replies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlagHelp:
    """What a flag does: ``summary`` fits a checklist row, ``detail`` a side panel."""

    summary: str
    detail: str


PRIVACY_HELP: dict[str, FlagHelp] = {
    "public": FlagHelp(
        "No restrictions.",
        "Turns nothing on. EXPN, VRFY, VERB and ETRN are answered and DSNs are offered. "
        "Any other flag given alongside it still applies.",
    ),
    "needmailhelo": FlagHelp(
        "Require HELO/EHLO before MAIL.",
        "A client that sends MAIL before HELO or EHLO gets "
        '"503 5.0.0 Polite people say HELO first".',
    ),
    "needexpnhelo": FlagHelp(
        "Require HELO/EHLO before EXPN.",
        'EXPN before HELO or EHLO gets "503 5.0.0 I demand that you introduce yourself first".',
    ),
    "needvrfyhelo": FlagHelp(
        "Require HELO/EHLO before VRFY.",
        'VRFY before HELO or EHLO gets "503 5.0.0 I demand that you introduce yourself first".',
    ),
    "noexpn": FlagHelp(
        "Refuse EXPN (and VERB).",
        'EXPN gets "502 5.7.0 Sorry, we do not allow this operation". EXPN and VERB are '
        "no longer advertised in the EHLO reply, and VERB is refused too: noexpn implies "
        "noverb. This keeps outsiders from listing the members of your aliases.",
    ),
    "novrfy": FlagHelp(
        "Refuse to verify addresses with VRFY.",
        'VRFY gets "252 2.5.2 Cannot VRFY user; try RCPT to attempt delivery (or try '
        'finger)". It is a 252, not a 502: the client learns nothing about which users '
        "exist.",
    ),
    "noetrn": FlagHelp(
        "Refuse ETRN.",
        'ETRN gets "502 5.7.0 Sorry, we do not allow this operation" and is no longer '
        "advertised in EHLO, so clients cannot make the server start queue runs.",
    ),
    "noverb": FlagHelp(
        "Refuse VERB.",
        'VERB gets "502 5.7.0 Verbose unavailable" and is no longer advertised in EHLO, '
        "so clients cannot watch delivery progress.",
    ),
    "restrictmailq": FlagHelp(
        "Only root and the queue folder's group may list the queue.",
        "mailq (and the queue screen over the RPC) is refused to other users with "
        '"510 You are not permitted to see the queue".',
    ),
    "restrictqrun": FlagHelp(
        "Only root and the queue folder's owner may run the queue.",
        '-q by anyone else fails with "You do not have permission to process the queue" '
        "and exit status 77 (EX_NOPERM).",
    ),
    "restrictexpand": FlagHelp(
        "Users other than root may not expand private aliases.",
        "-bv run by other users drops privileges, so private aliases, .forward and "
        ":include: files cannot be read through it, and -v is ignored for them.",
    ),
    "noreceipts": FlagHelp(
        "Do not offer DSN; send no return receipts.",
        "DSN is no longer advertised in EHLO. Every DSN parameter gets "
        '"504 5.7.0 Sorry, NOTIFY not supported, we do not allow DSN" (likewise RET, '
        "ENVID and ORCPT), and no success notices are sent.",
    ),
    "nobodyreturn": FlagHelp(
        "Bounces carry the headers only, never the body.",
        "Delivery status notifications return only the headers of the original message, "
        "whatever RET= asked for. Keeps message content out of bounces.",
    ),
    "goaway": FlagHelp(
        "All of the SMTP restrictions at once.",
        "Sets needmailhelo, needexpnhelo, needvrfyhelo, noexpn, novrfy, authwarnings and "
        "noverb (every bit of the low 16) plus noreflection. It does not set noreceipts, "
        "noetrn, nobodyreturn, noactualrecipient, restrictmailq, restrictqrun or "
        "restrictexpand; add those by name.",
    ),
    "authwarnings": FlagHelp(
        "Add X-Authentication-Warning headers.",
        "Adds an X-Authentication-Warning header (and logs it) when something about a "
        "message's origin is doubtful: no HELO before MAIL, a sender set with -f by an "
        "untrusted user, -bs with another sender, or a config given with -C.",
    ),
    "noactualrecipient": FlagHelp(
        "Leave X-Actual-Recipient out of DSNs.",
        "DSNs no longer include X-Actual-Recipient, which would reveal which account an "
        "address was delivered to after alias expansion.",
    ),
    "noreflection": FlagHelp(
        "Do not echo unknown commands in error replies.",
        "The echoed command text in error replies becomes (suppressed), so the server "
        "never reflects what a client sent. goaway includes it.",
    ),
}
