"""Entry point of the ``postroom`` desktop app.

``postroom [-C FILE] [--settings FILE] [--screen NAME] [--self-test]``:

- ``-C FILE``: the config the local connection uses (default: the user's embedded
  profile, created on first use, or ``/etc/postroom/postroom.toml`` for root);
- ``--settings FILE``: keep the app's settings in this INI file instead of the user's
  (tests and screenshots use it);
- ``--screen NAME``: the screen to open first (Dashboard, Queue, Hosts, ...);
- ``--self-test``: build the main window offscreen, connect to the local profile, ask
  ``server.info``, print one line and exit 0 (1 on failure) -- packaging runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SELF_TEST_SECONDS = 60


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="postroom", description="Postroom mail server admin")
    parser.add_argument("-C", dest="config", type=Path, help="config file of the local server")
    parser.add_argument("--settings", type=Path, help="keep the app's settings in this file")
    parser.add_argument("--screen", help="screen to open first (e.g. Queue)")
    parser.add_argument("--self-test", action="store_true", help="check the app and exit")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from postroom.gui.interpreter import tune_interpreter
    from postroom.gui.settings import SecretStore, Settings
    from postroom.gui.views.main_window import MainWindow
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    tune_interpreter()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName("postroom")
    app.setApplicationName("postroom")
    app.setApplicationDisplayName("Postroom")
    if args.self_test:
        quiet_offscreen_notes()
        with tempfile.TemporaryDirectory(prefix="postroom-self-test-") as tmp:
            store = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
            window = MainWindow(
                Settings(store), SecretStore(use_keyring=False), local_config=args.config
            )
            return self_test(app, window)
    if args.settings is not None:
        store = QSettings(str(args.settings), QSettings.Format.IniFormat)
    else:
        store = QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, "postroom", "postroom"
        )
    settings = Settings(store)
    if args.screen:
        settings.set_text("screen", args.screen)
    window = MainWindow(settings, SecretStore(), local_config=args.config)
    window.show()
    window.start()
    return app.exec()


def quiet_offscreen_notes() -> None:
    """Drop the offscreen platform's harmless note, so the self-test prints one line."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(_kind: QtMsgType, _where: QMessageLogContext, text: str) -> None:
        if "propagateSizeHints" not in text:
            print(text, file=sys.stderr)

    qInstallMessageHandler(handler)


def self_test(app: object, window: object) -> int:
    """Connect the window's local session and report ``server.info`` in one line."""
    from postroom.gui.views.main_window import MainWindow
    from PySide6.QtCore import QEventLoop, QTimer

    assert isinstance(window, MainWindow)
    window.show()
    window.start()
    session = window.sessions["local"]
    loop = QEventLoop()
    outcome: list[str] = []

    def check() -> None:
        if session.info is not None:
            info = session.info
            outcome.append(
                f"postroom self-test: ok: {info.get('server')} {info.get('version')}, protocol "
                f"{info.get('protocol')}, config {info.get('config_path')}, "
                f"daemon {'running' if (session.daemon or {}).get('running') else 'stopped'}"
            )
            loop.quit()
        elif session.detail and session.state == "lost":
            outcome.append(f"postroom self-test: FAILED: {session.detail}")
            loop.quit()

    session.changed.connect(check)
    QTimer.singleShot(SELF_TEST_SECONDS * 1000, loop.quit)
    loop.exec()
    window.shutdown()
    window.deleteLater()
    if not outcome:
        print(f"postroom self-test: FAILED: no answer within {SELF_TEST_SECONDS} s")
        return 1
    print(outcome[0])
    return 0 if ": ok: " in outcome[0] else 1


if __name__ == "__main__":
    sys.exit(main())
