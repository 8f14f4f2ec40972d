"""The text of the embedded profile's files: the commented config and the aliases.

Owns the wording a newcomer reads first.  Every line of the config carries a comment with
what it does; option names are Sendmail's.  Values are quoted with ``toml_string`` so no
user name can break the TOML.
"""

from __future__ import annotations

import json


def toml_string(value: str) -> str:
    """A TOML basic string for ``value`` (JSON's escaping is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def config_text(user: str) -> str:
    u = toml_string(user)
    return f"""\
# Postroom embedded profile for {user}: a private mail server on this machine.
# Option names are Sendmail's; the ones marked (*) are Postroom's own.
# Relative paths are relative to this file's folder.  `postroom-mta -bP` prints the
# configuration in force; the Ports and Privacy screens edit this file.

# This host's name ($j) in the greeting and in Received headers. (*)
HostName = "localhost"
# Domains delivered here (Sendmail's class w); HostName and localhost always are.
LocalDomains = ["localhost", "localhost.localdomain"]
# Mailbox users of this profile; no system accounts are needed.  Mail to postmaster is
# always accepted and goes where the aliases file says. (*)
LocalUsers = [{u}]

# The mail queue (qf/df files).
QueueDirectory = "mqueue"
# Persistent host status, relative to QueueDirectory as in Sendmail.
HostStatusDirectory = ".hoststat"
# The statistics file that mailstats reads.
StatusFile = "statistics"
# The aliases file: postmaster and MAILER-DAEMON go to {user}.
AliasFile = "aliases"
# Where local mailboxes live, and their format: mbox or maildir. (*)
MailSpoolDirectory = "spool"
MailboxFormat = "mbox"
# Log to this file (no syslog needed), keep graph data, and vacation settings. (*)
LogFile = "postroom.log"
TimeSeriesFile = "timeseries"
VacationDirectory = "vacation"
LogLevel = 9

# Listeners, loopback only: the MTA on port 2525 and the message submission agent on
# 2587.  On the MSA, M=E refuses ETRN and M=a requires AUTH before any mail.
DaemonPortOptions = [
    "Name=MTA, Port=2525, Addr=127.0.0.1",
    "Name=MSA, Port=2587, Addr=127.0.0.1, M=Ea",
]
# Clients that may relay without AUTH: this machine only. (*)
RelayFrom = ["127.0.0.0/8", "::1/128"]
# Add X-Authentication-Warning headers to doubtful mail (Sendmail's m4 default).
PrivacyOptions = ["authwarnings"]

# STARTTLS: a self-signed certificate for localhost and 127.0.0.1, valid ten years.
ServerCertFile = "certs/server.pem"
ServerKeyFile = "certs/server.key"
# AUTH users with scrypt hashes; your user name and password are in credentials.txt. (*)
AuthUsersFile = "authusers"
# Offer AUTH only inside TLS, except on loopback listeners like these. (*)
AuthRequireTLS = true

# Bounce undeliverable mail after 5 days, warn after 4 hours, trust a host's status
# for 30 minutes; wait 5 minutes for each SMTP command.
Timeout.queuereturn = "5d"
Timeout.queuewarn = "4h"
Timeout.hoststatus = "30m"
Timeout.command = "5m"
"""


def aliases_text(user: str) -> str:
    return f"""\
# Aliases for the Postroom embedded profile (Sendmail's aliases(5) format).
# name: target, target, ...   Run newaliases after editing.
postmaster: {user}
MAILER-DAEMON: postmaster
"""


def credentials_text(user: str, password: str) -> str:
    return f"""\
# SMTP AUTH credentials of the Postroom embedded profile.  The MSA listener
# (127.0.0.1 port 2587) requires them; the server keeps only a hash (authusers).
user: {user}
password: {password}
"""
