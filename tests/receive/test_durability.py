"""A message acknowledged with 250 survives kill -9; an unacknowledged one leaves no job."""

from __future__ import annotations

import signal
import smtplib
import threading

from postroom.core.queue.qf import parse_qf

from tests.support.mta import RunningMta

from .smtpwire import Wire

BODY = b"Subject: durable\r\n\r\n" + b"line of text\r\n" * 200


def test_every_acknowledged_message_survives_kill_9(mta: RunningMta) -> None:
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", mta.port(), timeout=10) as s:
                    s.ehlo("client.example.org")
                    s.mail("a@example.org")
                    s.rcpt("alice")
                    code, text = s.data(BODY)
                    if code == 250:
                        with lock:
                            acknowledged.append(text.decode().split()[1])
                            if len(acknowledged) >= 40:
                                stop.set()
            except (OSError, smtplib.SMTPException):
                return

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    stop.wait(60)
    mta.send_signal(signal.SIGKILL)
    for t in threads:
        t.join(30)
    assert mta.stop() == -signal.SIGKILL
    assert len(acknowledged) >= 40
    qdir = mta.setup.queue_dir
    for qid in acknowledged:
        qf = parse_qf((qdir / f"qf{qid}").read_bytes())
        assert qf.recipients[0].address == "<alice>"
        assert (qdir / f"df{qid}").read_bytes() == b"line of text\n" * 200
    # A restart sweeps debris but keeps every acknowledged job.
    restarted = RunningMta(mta.setup).start()
    try:
        w = Wire(restarted.port())
        assert w.greeting().startswith("220 ")
    finally:
        restarted.stop()
    for qid in acknowledged:
        assert (qdir / f"qf{qid}").exists()
    assert not list(qdir.glob("tf*"))
    left_df = {p.name[2:] for p in qdir.glob("df*")}
    left_qf = {p.name[2:] for p in qdir.glob("qf*")}
    assert left_df == left_qf
