"""Loading: defaults, typed values, paths, line numbers, syntax errors, cross checks."""

from __future__ import annotations

import ipaddress
import socket
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from postroom.core.config.describe import describe
from postroom.core.config.errors import ConfigError
from postroom.core.config.loader import load_config
from postroom.core.config.model import SmartHost
from postroom.core.config.options import OPTIONS, TIMEOUTS, option_doc, option_names
from postroom.core.policy.ports import DaemonPort
from postroom.core.policy.privacy import GOAWAY, Privacy

from .helpers import MINIMAL, write_config

FULL = """\
# a full configuration
QueueDirectory = "/var/spool/postroom/mqueue"
HostStatusDirectory = ".hoststat"            # relative to QueueDirectory
StatusFile = "stats/statistics"
AliasFile = "/etc/postroom/aliases"
PrivacyOptions = ["goaway", "NoEtrn"]
DaemonPortOptions = [
    "Name=MTA, Port=25",
    "Name=MSA, Port=587, M=Ea",
]
ClientPortOptions = "Addr=192.0.2.1, M=h"
LogLevel = 12
PostmasterCopy = "postmaster"
Timeout.hoststatus = "1h"
Timeout.queuereturn = "7d"
MaxMessageSize = "25M"
MaxRecipientsPerMessage = 500
MaxDaemonChildren = 40
MaxConnectionsPerHost = 20
SmartHost = "[relay.example.net]:587"
LocalDomains = ["Example.TEST", "[192.0.2.1]"]
RelayDomains = ["partner.example"]
RelayFrom = ["192.0.2.0/24", "2001:db8::/32"]
LocalUsers = ["alice", "bob"]
MailSpoolDirectory = "/var/mail"
MailboxFormat = "Maildir"
ServerCertFile = "certs/server.pem"
ServerKeyFile = "certs/server.key"
AuthUsersFile = "authusers"
AuthRequireTLS = true
LogFile = "log/postroom.log"
TimeSeriesFile = "series"
VacationDirectory = "vacation"
HostName = "mail.example.test"
SuperSafe = false
MinQueueAge = "15m"
QueueSortOrder = "Host"
"""


def test_full_config(tmp_path: Path) -> None:
    path = write_config(tmp_path / "etc", FULL)
    c = load_config(path)
    etc = tmp_path / "etc"
    assert c.path == path
    assert c.queue_directory == Path("/var/spool/postroom/mqueue")
    assert c.host_status_directory == Path("/var/spool/postroom/mqueue/.hoststat")
    assert c.status_file == etc / "stats/statistics"
    assert c.privacy == GOAWAY | Privacy.noetrn
    assert c.daemon_ports == (
        DaemonPort("MTA", 25, None),
        DaemonPort("MSA", 587, None, modifiers=frozenset("Ea")),
    )
    assert c.daemon_ports[1].daemon_flags == "EE a"
    assert c.client_port is not None and c.client_port.addr == "192.0.2.1"
    assert c.log_level == 12 and c.postmaster_copy == "postmaster"
    assert c.timeouts["hoststatus"] == 3600 and c.timeouts["queuereturn"] == 7 * 86400
    assert c.timeouts["command"] == 300
    assert set(c.timeouts) == set(TIMEOUTS)
    assert c.max_message_size == 25 * 2**20 and c.max_recipients == 500
    assert c.max_daemon_children == 40 and c.max_connections_per_host == 20
    assert c.smart_host == SmartHost("relay.example.net", 587, mx_lookup=False)
    assert c.local_domains == {"example.test", "[192.0.2.1]", "mail.example.test", "localhost"}
    assert c.relay_domains == {"partner.example"}
    assert c.relay_from == (
        ipaddress.ip_network("192.0.2.0/24"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert c.local_users == {"alice", "bob"}
    assert c.mailbox_format == "maildir"
    assert c.server_cert_file == etc / "certs/server.pem"
    assert c.auth_users_file == etc / "authusers" and c.auth_require_tls
    assert c.log_file == etc / "log/postroom.log" and c.time_series_file == etc / "series"
    assert c.host_name == "mail.example.test"
    assert not c.super_safe and c.min_queue_age == 900 and c.queue_sort_order == "host"
    assert c.lines["QueueDirectory"] == 2 and c.lines["Timeout.queuereturn"] == 15
    assert c.lines["HostName"] == 34 and "LogFile" in c.lines
    assert c.warnings == ()


def test_defaults(tmp_path: Path) -> None:
    c = load_config(write_config(tmp_path, ""))
    assert c.queue_directory == Path("/var/spool/postroom/mqueue")
    assert c.host_status_directory == Path("/var/spool/postroom/mqueue/.hoststat")
    assert c.privacy == Privacy.authwarnings
    assert [p.name for p in c.daemon_ports] == ["MTA", "MSA"]
    assert c.daemon_ports[1].port == 587 and c.daemon_ports[1].no_etrn
    assert c.log_level == 9 and c.max_recipients == 100 and c.max_message_size == 50 * 2**20
    assert c.max_connections_per_host == 100 and c.auth_require_tls and c.super_safe
    assert c.timeouts["command"] == 300 and c.timeouts["queuewarn"] == 4 * 3600
    assert c.timeouts["queuereturn"] == 5 * 86400 and c.timeouts["hoststatus"] == 1800
    assert c.client_port is None and c.smart_host is None and c.postmaster_copy is None
    assert c.server_cert_file is None and c.auth_users_file is None and c.log_file is None
    expected = socket.gethostname()
    assert c.host_name == (expected if "." in expected else f"{expected}.localdomain")
    assert {c.host_name.lower(), "localhost"} <= c.local_domains
    assert c.relay_from == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
    assert c.lines == {}


def test_absolute_host_status_directory(tmp_path: Path) -> None:
    c = load_config(write_config(tmp_path, MINIMAL + 'HostStatusDirectory = "/srv/hs"\n'))
    assert c.host_status_directory == Path("/srv/hs")
    assert c.queue_directory == tmp_path / "mqueue"


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'QueueDirectory = "q"\nLogLevel = = 9\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:2: TOML syntax: Invalid value (column")


def test_unterminated_string(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'QueueDirectory = "q\n')
    with pytest.raises(ConfigError, match=r":1: TOML syntax: "):
        load_config(path)


def test_key_given_twice(tmp_path: Path) -> None:
    path = write_config(tmp_path, "LogLevel = 9\nQueueDirectory = 'q'\nLogLevel = 10\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:3: LogLevel: given twice"


def test_not_utf8(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")
    path.write_bytes(b"LogLevel = 9\nHostName = '\xff'\n")
    with pytest.raises(ConfigError, match=r":2: the file is not valid UTF-8"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read: No such file"):
        load_config(tmp_path / "absent.toml")


def test_error_in_third_listener_points_at_its_line(tmp_path: Path) -> None:
    body = """\
    DaemonPortOptions = [
        "Name=MTA, Port=25",
        "Name=MSA, Port=587",
        "Name=BAD, Port=seventy",
    ]
    """
    path = write_config(tmp_path, MINIMAL + body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f'{path}:6: DaemonPortOptions: "Name=BAD, Port=seventy": ')
    assert "neither a number" in str(info.value)


@pytest.mark.parametrize(
    ("body", "line", "option", "fragment"),
    [
        ('DaemonPortOptions = ["Name=A, Port=25", "Name=A, Port=26"]\n', 3,
         "DaemonPortOptions", "both named"),
        ('DaemonPortOptions = ["Name=A", "Name=B, Addr=127.0.0.1"]\n', 3,
         "DaemonPortOptions", "both bind port 25"),
        ('DaemonPortOptions = ["Name=MSA, M=a"]\n', 3, "DaemonPortOptions",
         "no AuthUsersFile"),
        ('DaemonPortOptions = ["Name=S, Port=465, M=s"]\n', 3, "DaemonPortOptions",
         "ServerCertFile"),
        ('ServerCertFile = "c.pem"\n', 3, "ServerCertFile", "ServerKeyFile must be set too"),
        ('ServerKeyFile = "c.key"\n', 3, "ServerKeyFile", "ServerCertFile must be set too"),
        ('PrivacyOptions = ["goaway", "nosuch"]\n', 3, "PrivacyOptions",
         'unknown PrivacyOptions name "nosuch"'),
        ('PrivacyOptions = "goaway"\nLogLevel = "9"\n', 4, "LogLevel", "expected a whole number"),
        ("LogLevel = 100\n", 3, "LogLevel", "out of range: use 0 to 99"),
        ('MailboxFormat = "mh"\n', 3, "MailboxFormat", "use one of: mbox, maildir"),
        ('QueueSortOrder = "size"\n', 3, "QueueSortOrder", "use one of: priority"),
        ('SmartHost = "[relay"\n', 3, "SmartHost", "is not [host] or [host]:port"),
        ('SmartHost = "relay:99999"\n', 3, "SmartHost", "1 to 65535"),
        ('SmartHost = "-bad-"\n', 3, "SmartHost", "not a valid host name"),
        ('LocalDomains = ["exa mple.test"]\n', 3, "LocalDomains", "not a valid host name"),
        ('LocalDomains = ["[999.1.1.1]"]\n', 3, "LocalDomains", "not a valid address literal"),
        ('LocalDomains = "a.test, b..test"\n', 3, "LocalDomains", "not a valid host name"),
        ("LocalDomains = [1]\n", 3, "LocalDomains", "expected a list of domains"),
        ('LocalUsers = ["al ice"]\n', 3, "LocalUsers", "not a valid user name"),
        ('QueueDirectory2 = ""\n', 3, "QueueDirectory2", "did you mean QueueDirectory?"),
        ("SuperSafe = 1\n", 3, "SuperSafe", "expected true or false"),
        ('ClientPortOptions = "M=x"\n', 3, "ClientPortOptions", 'modifier "x" unknown'),
        ('AliasFile = ""\n', 3, "AliasFile", "a path is required"),
        ("Timeout = 5\n", 3, "Timeout", "timeouts are Timeout.queuereturn"),
        ('[Other]\nx = 1\n', 3, "Other", "unknown option"),
    ],
)  # fmt: skip
def test_bad_values(tmp_path: Path, body: str, line: int, option: str, fragment: str) -> None:
    path = write_config(tmp_path, MINIMAL + body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:{line}: {option}: "), str(info.value)
    assert fragment in str(info.value)


def test_bad_host_name(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'HostName = "mail_server.example"\n')
    with pytest.raises(ConfigError, match=r":1: HostName: .*not a valid host name"):
        load_config(path)


def test_warnings(tmp_path: Path) -> None:
    body = (
        'DaemonPortOptions = ["Name=MTA, Port=25, I=milter", "Name=MSA, Port=587, M=E"]\n'
        'AuthUsersFile = "users"\n'
        'Timeout.queuewarn = "6d"\n'
    )
    path = write_config(tmp_path, MINIMAL + body)
    warnings = load_config(path).warnings
    assert any(w.startswith(f"{path}:3: DaemonPortOptions: ") and "InputMailFilters" in w
               for w in warnings)  # fmt: skip
    assert any("will never offer AUTH" in w and "no certificate" in w for w in warnings)
    assert any(w.startswith(f"{path}:5: Timeout.queuewarn: ") for w in warnings)


def test_quoted_dotted_timeout_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '"Timeout.command" = "30s"\n')
    c = load_config(path)
    assert c.timeouts["command"] == 30 and c.lines["Timeout.command"] == 3


def test_option_names_and_docs() -> None:
    names = option_names()
    assert names[0] == "QueueDirectory" and "Timeout.command" in names
    required_names = (
        "HostStatusDirectory PrivacyOptions DaemonPortOptions ClientPortOptions "
        "MaxConnectionsPerHost RelayFrom AuthRequireTLS MinQueueAge QueueSortOrder "
        "AllowOpenRelay AllowRFCViolation"
    ).split()
    for required in required_names:
        assert required in names
        assert option_doc(required)
    assert OPTIONS["RelayFrom"].ours and not OPTIONS["QueueDirectory"].ours


def test_describe(tmp_path: Path) -> None:
    c = load_config(write_config(tmp_path / "etc", FULL))
    pairs = describe(c)
    as_dict = dict(pairs)
    assert [v for k, v in pairs if k == "DaemonPortOptions"] == [
        "Name=MTA, Port=25",
        "Name=MSA, Port=587, M=Ea",
    ]
    assert as_dict["PrivacyOptions"] == "goaway,noetrn"
    assert as_dict["Timeout.queuereturn"] == "7d" and as_dict["Timeout.command"] == "5m"
    assert as_dict["MaxMessageSize"] == str(25 * 2**20)
    assert as_dict["SmartHost"] == "[relay.example.net]:587"
    assert as_dict["SuperSafe"] == "false" and as_dict["LogLevel"] == "12"
    assert as_dict["HostStatusDirectory"] == "/var/spool/postroom/mqueue/.hoststat"
    assert as_dict["ClientPortOptions"] == "Addr=192.0.2.1, M=h"
    assert as_dict["RelayFrom"] == "192.0.2.0/24,2001:db8::/32"
    assert as_dict["MinQueueAge"] == "15m"
    assert {k for k, _ in pairs} == set(option_names())


LINE_PARTS = st.sampled_from(
    [
        'QueueDirectory = "q"', "LogLevel = 9", "LogLevel = -1", 'HostName = "a.example"',
        '[Timeout]', 'command = "5m"', 'Timeout.command = "0"', "MaxMessageSize = 1e3",
        'DaemonPortOptions = ["Name=A, Port=25", "Name=A"]', 'RelayFrom = ["::/0"]',
        'PrivacyOptions = "goaway,"', "Bogus = 1", '"Timeout.x" = 1', "= 1", "[[arr]]",
        'LocalDomains = ["a", "b\\u0001"]', "SuperSafe = true", 'SmartHost = "[x]:0"',
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE_PARTS | st.text(max_size=30), max_size=8))
def test_any_file_loads_or_raises_config_error(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_config(Path(folder), "\n".join(lines) + "\n")
        try:
            load_config(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))
