"""Channel credentials at rest: Fernet tokens under keys from ONHAND_SECRET_KEY.

`ONHAND_SECRET_KEY` lists one or more Fernet keys, comma-separated: the first encrypts, all
decrypt, so a key is rotated by putting the new one first and running `onhand secrets rotate`.
With none set, a key file is created beside the SQLite database on first use (mode 0600), so
the embedded default keeps working across restarts; PostgreSQL installations must set the key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from ..errors import Unavailable


class SecretKeyMissing(Unavailable):
    slug, title = "secret-key-missing", "No secret key configured"


def key_file(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise SecretKeyMissing(
            "Set ONHAND_SECRET_KEY (a Fernet key: python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())') to store channel credentials."
        )
    return Path(url.database).resolve().with_name(Path(url.database).name + ".secret-key")


def _file_key(path: Path) -> bytes:
    if not path.exists():
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    return path.read_bytes().strip()


def keyring(secret_key: str | None, database_url: str) -> MultiFernet:
    """The keys to use: ONHAND_SECRET_KEY's, else the key file beside the SQLite database."""
    if secret_key and secret_key.strip():
        keys = [k.strip().encode() for k in secret_key.split(",") if k.strip()]
    else:
        path = key_file(database_url)
        try:
            keys = [_file_key(path)]
        except FileExistsError:  # another process created it between the check and the open
            keys = [path.read_bytes().strip()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretKeyMissing(
            "ONHAND_SECRET_KEY must be comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from None


def encrypt(ring: MultiFernet, plain: str) -> str:
    return ring.encrypt(plain.encode()).decode()


def decrypt(ring: MultiFernet, token: str) -> str:
    try:
        return ring.decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyMissing(
            "A channel credential cannot be decrypted with the keys in ONHAND_SECRET_KEY: "
            "list the key it was stored with (after the new one) and run `onhand secrets rotate`."
        ) from None


def hint(plain: str) -> str:
    """What an answer may show of a secret: at most its last four characters."""
    return plain[-4:] if len(plain) >= 12 else ""


def rotate(ring: MultiFernet, token: str) -> str:
    """The same secret under the first key."""
    try:
        return ring.rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyMissing(
            "A stored credential matches none of the keys in ONHAND_SECRET_KEY: keep the old "
            "key in the list (after the new one) until the rotation has run."
        ) from None
