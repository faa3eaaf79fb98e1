"""The embedded store and warehouse are files that hold pseudonyms, customer data and sealed
secrets: only their owner may read them (mode 0600, a new parent folder 0700), like the admin token
and the pseudonym salt beside them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_parent(path: str | Path) -> None:
    """Create ``path``'s folder if missing, readable by its owner only (an existing one is left)."""
    Path(path).parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def create_private(path: str | Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty file as a new
    database and gives its -wal and -shm files the same mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def make_private(path: str | Path, *companions: str) -> None:
    """Mode 0600 for ``path`` and its companion files (``path`` + suffix) that exist; a file someone
    else owns is left as it is (its owner decides)."""
    for name in (str(path), *(f"{path}{suffix}" for suffix in companions)):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if os.stat(name).st_mode & 0o777 != FILE_MODE:
                os.chmod(name, FILE_MODE)
