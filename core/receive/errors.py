"""Control-flow signals shared by the session modules."""


class CloseSession(Exception):
    """Raised by a handler after it has sent its final (421/221) reply."""


MAX_BAD_RECIPIENTS = 25  # RFC 5321 §7.8: close a harvesting session after this many 550s
