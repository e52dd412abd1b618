"""Encryption at rest for upstream secrets (API keys, OAuth tokens).

AES-256-GCM with a random 96-bit nonce per value, stored as ``enc:v1:<base64>``. The key
comes from ``OMNI_SECRET_KEY`` (base64 of 32 bytes) or a 0600 file in the data dir, created
on first use. A check value in the ``meta`` table proves the key matches the data: if the
key file is lost or replaced while encrypted rows exist, omni says so and stops instead of
silently making a new key over data it can no longer read.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from omni.errors import SecretKeyError
from omni.paths import write_private
from omni.store.db import Database

PREFIX = "enc:v1:"
_AAD = b"omni-secret-v1"
_CHECK_PLAIN = "omni secret key check"
_CHECK_KEY = "secret_key_check"


class SecretBox:
    """Encrypts and decrypts short secrets with the installation's key."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise SecretKeyError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plain: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), _AAD)
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> str:
        from cryptography.exceptions import InvalidTag

        if not token.startswith(PREFIX):
            raise SecretKeyError("a stored secret is not in omni's encrypted format")
        try:
            raw = base64.b64decode(token[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError):
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the current key",
                hint="restore the original secret.key file or OMNI_SECRET_KEY",
            ) from None


def _decode_env_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SecretKeyError("OMNI_SECRET_KEY must be the base64 encoding of 32 random bytes")
    return key


def load_secret_box(db: Database, key_file: Path, env: dict[str, str] | None = None) -> SecretBox:
    """The SecretBox for this installation, creating the key on first use only.

    Raises :class:`SecretKeyError` when encrypted data exists but the key is missing or
    different: the data is never overwritten and no new key is made in that case.
    """
    env = dict(os.environ) if env is None else env
    with db.session() as conn:
        check = db.get_meta(conn, _CHECK_KEY)
        if env.get("OMNI_SECRET_KEY"):
            box = SecretBox(_decode_env_key(env["OMNI_SECRET_KEY"]))
            source = "OMNI_SECRET_KEY"
        elif key_file.exists():
            box = SecretBox(_read_key_file(key_file))
            source = str(key_file)
        elif check is not None:
            raise SecretKeyError(
                f"the secret key file {key_file} is missing but the database holds "
                "encrypted secrets",
                hint="restore the key file (or set OMNI_SECRET_KEY); omni will not replace it",
            )
        else:
            write_private(key_file, base64.b64encode(os.urandom(32)) + b"\n")
            box = SecretBox(_read_key_file(key_file))
            source = str(key_file)
        if check is None:
            db.set_meta(conn, _CHECK_KEY, box.encrypt(_CHECK_PLAIN))
        else:
            try:
                ok = box.decrypt(check) == _CHECK_PLAIN
            except SecretKeyError:
                ok = False
            if not ok:
                raise SecretKeyError(
                    f"the secret key from {source} does not match the one the database "
                    "was encrypted with",
                    hint="restore the original key; omni will not overwrite encrypted data",
                )
    return box


def _read_key_file(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise SecretKeyError(f"the secret key file {path} cannot be read: {exc}") from None
    if len(key) != 32:
        raise SecretKeyError(f"the secret key file {path} does not hold a 32-byte key")
    return key


def verify_key(
    db: Database, key_file: Path, env: dict[str, str] | None = None
) -> tuple[SecretBox | None, str]:
    """Check the installation's key without creating or recording anything.

    Returns ``(box, where the key comes from)``; ``box`` is None when there is no key yet
    and no encrypted data needs one. Raises :class:`SecretKeyError` when the key is
    missing, unreadable or does not match the data (``omni doctor`` reports it).
    """
    env = dict(os.environ) if env is None else env
    with db.session() as conn:
        check = db.get_meta(conn, _CHECK_KEY)
    if env.get("OMNI_SECRET_KEY"):
        box, source = SecretBox(_decode_env_key(env["OMNI_SECRET_KEY"])), "OMNI_SECRET_KEY"
    elif key_file.exists():
        box, source = SecretBox(_read_key_file(key_file)), str(key_file)
    elif check is not None:
        raise SecretKeyError(
            f"the secret key file {key_file} is missing but the database holds encrypted secrets",
            hint="restore the key file (or set OMNI_SECRET_KEY)",
        )
    else:
        return None, str(key_file)
    if check is not None:
        try:
            ok = box.decrypt(check) == _CHECK_PLAIN
        except SecretKeyError:
            ok = False
        if not ok:
            raise SecretKeyError(
                f"the secret key from {source} does not match the one the database was "
                "encrypted with",
                hint="restore the original key file or OMNI_SECRET_KEY",
            )
    return box, source
