"""Per-user settings files: round trip, atomic write, validation naming the field."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postroom.core.vacation import (
    SettingsError,
    VacationSettings,
    delete_settings,
    list_users,
    load_settings,
    save_settings,
)


def test_round_trip_and_listing(tmp_path: Path) -> None:
    start = datetime(2027, 1, 10, tzinfo=UTC)
    settings = VacationSettings(
        enabled=True,
        subject="Away: $SUBJECT",
        message="Back on Monday.\nBob",
        interval=0,
        addresses=("b.smith@example.org",),
        exclusions=("boss@example.com", "@lists.example"),
        start=start,
        end=start + timedelta(days=14),
    )
    path = save_settings(tmp_path / "vacation", "bob", settings)
    assert path == tmp_path / "vacation" / "bob.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert load_settings(tmp_path / "vacation", "bob") == settings
    assert json.loads(path.read_text())["start"] == "2027-01-10T00:00:00+00:00"
    save_settings(tmp_path / "vacation", "alice", VacationSettings())
    assert list_users(tmp_path / "vacation") == ["alice", "bob"]
    assert delete_settings(tmp_path / "vacation", "alice")
    assert not delete_settings(tmp_path / "vacation", "alice")
    assert list_users(tmp_path / "nowhere") == []


def test_missing_file_means_off(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, "carol")
    assert settings == VacationSettings() and not settings.enabled
    assert settings.interval == 7 * 86400


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "Away\r\nBcc: evil@example.com"}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"message": "a\x00b"}, "message"),
        ({"message": "x" * 70000}, "message"),
        ({"interval": 3600}, "interval"),
        ({"interval": -1}, "interval"),
        ({"interval": 400 * 86400}, "interval"),
        ({"addresses": ("not an address",)}, "addresses"),
        ({"addresses": ("a@b\n.example",)}, "addresses"),
        ({"exclusions": ("example.com",)}, "exclusions"),
        ({"start": datetime(2027, 1, 1)}, "start"),
        (
            {
                "start": datetime(2027, 1, 2, tzinfo=UTC),
                "end": datetime(2027, 1, 1, tzinfo=UTC),
            },
            "end",
        ),
    ],
)
def test_invalid_values_name_the_field(tmp_path: Path, changes: dict, field: str) -> None:
    with pytest.raises(SettingsError) as info:
        save_settings(tmp_path, "bob", VacationSettings(enabled=True, **changes))
    assert info.value.field == field
    assert not (tmp_path / "bob.json").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"enabled": true,\n "colour": "red"}', "unknown setting 'colour'"),
        ('{"enabled": "yes"}', "enabled: must be true or false"),
        ('{"interval": 86400.5}', "interval: must be a whole number"),
        ('{"enabled": true,\n  oops}', "line 2:"),
        ('["not", "an", "object"]', "must be a JSON object"),
        ('{"start": "yesterday"}', "start:"),
    ],
)
def test_bad_files_are_reported_with_their_path(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bob.json").write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path, "bob")
    assert str(info.value).startswith(f"{tmp_path / 'bob.json'}: ")
    assert message in str(info.value)


@pytest.mark.parametrize("name", ["../etc", "Bob", "", "a/b", "x" * 70])
def test_user_names_are_plain(tmp_path: Path, name: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(tmp_path, name)


def test_crlf_message_is_normalised(tmp_path: Path) -> None:
    (tmp_path / "bob.json").write_text('{"enabled": true, "message": "a\\r\\nb"}')
    assert load_settings(tmp_path, "bob").message == "a\nb"
