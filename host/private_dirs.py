"""Folders for health data: the ones we create are the user's only (0700).

``Path.mkdir(mode=0o700, parents=True)`` gives only the last folder that mode (and that masked by
the umask); the parents it creates get the default, often 0755. :func:`make_private_dirs`
creates every missing level 0700 and leaves folders that already exist as they are (a user's
home or a shared parent is not ours to change).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

__all__ = ["make_private_dirs"]


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents, each 0700 whatever the umask.

    Raises:
        OSError: a level cannot be created (permission, a file in the way...).
    """
    missing: list[Path] = []
    level = directory
    while not level.exists():
        missing.append(level)
        if level.parent == level:
            break
        level = level.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # created meanwhile by another program: not ours to change
            if not folder.is_dir():
                raise
            continue
        with contextlib.suppress(OSError):
            folder.chmod(0o700)  # mkdir's mode is masked by the umask
