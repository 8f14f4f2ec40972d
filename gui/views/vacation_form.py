"""The editor for one user's vacation settings, with the server's refusal next to its field.

:class:`VacationEditor` holds on/off, subject (``$SUBJECT`` = the incoming subject),
message, the interval in days (0 = reply once per sender), extra addresses,
exclusions (addresses and ``@domain``) and optional start and end.  ``changed``
fires on every edit the user makes (not while :meth:`load` fills the fields).
:meth:`show_error` puts the server's message (``SettingsError``'s ``field``) under
the field it names; :meth:`clear_errors` removes them.
"""

from __future__ import annotations

from datetime import datetime

from postroom.gui.models.vacation_form import FIELDS, VacationForm
from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

LIST_HEIGHT = 54
ERROR_STYLE = "color: #b00020;"


def _error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


class _DateField(QWidget):
    """An optional date and time: a check box that enables the editor."""

    changed = Signal()

    def __init__(self, text: str) -> None:
        super().__init__()
        self.used = QCheckBox(text)
        self.edit = QDateTimeEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.edit.setDateTime(QDateTime.currentDateTime())
        self.edit.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.used)
        layout.addWidget(self.edit, 1)
        self.used.toggled.connect(self._on_used)
        self.edit.dateTimeChanged.connect(lambda _d: self.changed.emit())

    def _on_used(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.changed.emit()

    def value(self) -> datetime | None:
        if not self.used.isChecked():
            return None
        seconds = self.edit.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(seconds).astimezone()

    def set_value(self, value: datetime | None) -> None:
        self.used.setChecked(value is not None)
        if value is not None:
            self.edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value.timestamp())))


class VacationEditor(QWidget):
    """One user's vacation settings."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.enabled = QCheckBox("Vacation is on: answer mail for this user")
        self.enabled.setObjectName("vacationEnabled")
        self.subject = QLineEdit()
        self.subject.setObjectName("vacationSubject")
        self.subject.setToolTip("$SUBJECT stands for the subject of the message answered")
        self.message = QPlainTextEdit()
        self.message.setObjectName("vacationMessage")
        self.message.setPlaceholderText("I am away until … and will answer when I am back.")
        self.days = QSpinBox()
        self.days.setObjectName("vacationDays")
        self.days.setRange(0, 365)
        self.days.setSuffix(" days")
        self.days.setSpecialValueText("0 — answer each sender only once")
        self.addresses = QPlainTextEdit()
        self.addresses.setObjectName("vacationAddresses")
        self.addresses.setPlaceholderText("other addresses of this user, one per line")
        self.exclusions = QPlainTextEdit()
        self.exclusions.setObjectName("vacationExclusions")
        self.exclusions.setPlaceholderText("never answer: boss@example.com, @lists.example.org")
        for box in (self.addresses, self.exclusions):
            box.setFixedHeight(LIST_HEIGHT)
        self.start = _DateField("From")
        self.end = _DateField("Until (not included)")
        self.errors = {name: _error_label() for name in (*FIELDS, "user")}
        form = QFormLayout()
        form.addRow("", self.enabled)
        rows: tuple[tuple[str, QWidget, str], ...] = (
            ("Subject", self.subject, "subject"),
            ("Message", self.message, "message"),
            ("Interval", self.days, "interval"),
            ("Extra addresses", self.addresses, "addresses"),
            ("Exclusions", self.exclusions, "exclusions"),
            ("Starts", self.start, "start"),
            ("Ends", self.end, "end"),
        )
        for label, widget, name in rows:
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self.errors[name])
            form.addRow(label, column)
        form.addRow("", self.errors["enabled"])
        form.addRow("", self.errors["user"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        self._loading = False
        self.enabled.toggled.connect(self._emit)
        self.subject.textEdited.connect(self._emit)
        self.message.textChanged.connect(self._emit)
        self.days.valueChanged.connect(self._emit)
        self.addresses.textChanged.connect(self._emit)
        self.exclusions.textChanged.connect(self._emit)
        self.start.changed.connect(self._emit)
        self.end.changed.connect(self._emit)

    def _emit(self, *_args: object) -> None:
        if not self._loading:
            self.changed.emit()

    def load(self, form: VacationForm) -> None:
        self._loading = True
        try:
            self.enabled.setChecked(form.enabled)
            self.subject.setText(form.subject)
            self.message.setPlainText(form.message)
            self.days.setValue(form.days)
            self.addresses.setPlainText(form.addresses)
            self.exclusions.setPlainText(form.exclusions)
            self.start.set_value(form.start)
            self.end.set_value(form.end)
        finally:
            self._loading = False
        self.clear_errors()

    def values(self) -> VacationForm:
        return VacationForm(
            enabled=self.enabled.isChecked(),
            subject=self.subject.text(),
            message=self.message.toPlainText(),
            days=self.days.value(),
            addresses=self.addresses.toPlainText(),
            exclusions=self.exclusions.toPlainText(),
            start=self.start.value(),
            end=self.end.value(),
        )

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.setText("")
            label.hide()

    def show_error(self, field: str | None, text: str) -> QLabel:
        """Show ``text`` under ``field`` (the enabled row when the field is unknown)."""
        label = self.errors.get(field or "", self.errors["enabled"])
        prefix = f"{field}: "
        label.setText(text[len(prefix) :] if field and text.startswith(prefix) else text)
        label.show()
        return label

    def error_text(self, field: str) -> str:
        label = self.errors[field]
        return label.text() if not label.isHidden() else ""
