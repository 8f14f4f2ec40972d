"""Explanations of DaemonPortOptions keys and modifier letters, for the Ports screen.

Owns ``PORT_KEYS`` and ``DAEMON_MODIFIER_HELP``: one line each, following Sendmail's
documentation of ``O DaemonPortOptions`` (op.me, "DaemonPortOptions").  They belong next
to the parser in ``postroom.core.policy`` eventually; they live here until the policy
package grows its own copy.
"""

from __future__ import annotations

PORT_KEYS: dict[str, str] = {
    "Name": "The listener's name, used in logs and in ${daemon_name}.",
    "Port": "The TCP port to listen on (a number or a service name; default 25).",
    "Addr": "The address to bind; without it, every address of the family.",
    "Family": "inet (IPv4, the default) or inet6 (IPv6); local sockets are not supported.",
    "Listen": "The length of the pending-connection queue (default 10).",
    "Modifiers": "Letters that change the listener's behaviour (M=); see below.",
}

DAEMON_MODIFIER_HELP: dict[str, str] = {
    "a": "Require SMTP AUTH before MAIL (a submission port).",
    "b": "Bind outgoing connections to the interface the mail came in on.",
    "c": "Perform host name canonification for mail received here.",
    "f": "Require fully qualified sender addresses.",
    "h": "Use the name of the receiving interface for HELO on outgoing mail.",
    "r": "Do not perform host name canonification (the .cf's r flag).",
    "s": "Speak TLS from the first byte (SMTPS, port 465) instead of STARTTLS.",
    "u": "Allow unqualified sender addresses.",
    "A": "Offer no SMTP AUTH on this listener (overrides a).",
    "C": "Do not perform host name canonification.",
    "E": "Refuse ETRN (RFC 2476 submission ports).",
    "O": "Optional: if the socket cannot be opened, carry on without it.",
    "S": "Do not offer STARTTLS.",
}
