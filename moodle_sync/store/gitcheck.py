"""Is the state store about to be committed? It holds names and e-mail addresses of real people.

``moodle-sync`` warns when the store lies inside a git work tree that does not ignore it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["committable_store_warning"]


def committable_store_warning(state_path: str | Path) -> str | None:
    """A warning when ``state_path`` is inside a git work tree that does not ignore it, else None.

    Without git, or outside any work tree, there is nothing to warn about.
    """
    git = shutil.which("git")
    if git is None:
        return None
    path = Path(state_path).absolute()
    existing = next((p for p in (path.parent, *path.parents) if p.is_dir()), None)
    if existing is None:
        return None
    try:
        top = subprocess.run([git, "-C", str(existing), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=10)
        if top.returncode != 0:
            return None  # not in a work tree
        ignored = subprocess.run([git, "-C", str(existing), "check-ignore", "-q", "--", str(path)],
                                 capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if ignored.returncode != 1:  # 0: ignored; 128: git could not tell
        return None
    root = Path(top.stdout.strip())
    try:
        shown = path.relative_to(root)
    except ValueError:
        shown = path
    return (f"the state store {shown} (names and e-mail addresses of real people) is inside the git work tree "
            f"{root} and git does not ignore it: add `{shown.parent.as_posix()}/` to {root / '.gitignore'} so "
            f"that it is never committed")
