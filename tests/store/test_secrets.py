"""Upstream secrets are encrypted at rest, and a lost or wrong key is never papered over."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from omni.errors import SecretKeyError
from omni.store.db import open_database
from omni.store.secrets import PREFIX, load_secret_box

SECRET = "sk-live-THIS-MUST-NOT-LEAK-0123456789"


def test_round_trip_and_key_file_is_private(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    key_file = tmp_path / "secret.key"
    box = load_secret_box(db, key_file, env={})
    token = box.encrypt(SECRET)
    assert token.startswith(PREFIX)
    assert SECRET not in token
    assert box.encrypt(SECRET) != token, "each value gets its own nonce"
    assert box.decrypt(token) == SECRET
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The same installation opens again with the same key.
    assert load_secret_box(db, key_file, env={}).decrypt(token) == SECRET


def test_lost_key_file_is_reported_and_not_regenerated(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    key_file = tmp_path / "secret.key"
    load_secret_box(db, key_file, env={})
    key_file.unlink()
    with pytest.raises(SecretKeyError, match="missing"):
        load_secret_box(db, key_file, env={})
    assert not key_file.exists()


def test_wrong_key_is_refused(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    load_secret_box(db, tmp_path / "secret.key", env={})
    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(SecretKeyError, match="does not match"):
        load_secret_box(db, tmp_path / "secret.key", env={"OMNI_SECRET_KEY": other})


def test_key_from_environment(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    key = base64.b64encode(os.urandom(32)).decode()
    box = load_secret_box(db, tmp_path / "secret.key", env={"OMNI_SECRET_KEY": key})
    assert not (tmp_path / "secret.key").exists()
    assert box.decrypt(box.encrypt("x")) == "x"
    with pytest.raises(SecretKeyError, match="32 random bytes"):
        load_secret_box(db, tmp_path / "secret.key", env={"OMNI_SECRET_KEY": "short"})


def test_tampered_value_is_refused(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    box = load_secret_box(db, tmp_path / "secret.key", env={})
    raw = bytearray(base64.b64decode(box.encrypt(SECRET)[len(PREFIX) :]))
    raw[-1] ^= 1
    with pytest.raises(SecretKeyError):
        box.decrypt(PREFIX + base64.b64encode(bytes(raw)).decode())
