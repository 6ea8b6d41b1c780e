"""Web-service tokens: which functions a token's service holds and which capabilities its user has."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    """One token. ``functions`` None: every implemented function; ``capabilities`` None: a site admin."""

    token: str
    functions: frozenset[str] | None
    capabilities: frozenset[str] | None
    userid: int

    def allows(self, wsfunction: str) -> bool:
        return self.functions is None or wsfunction in self.functions

    def has(self, capability: str) -> bool:
        return self.capabilities is None or capability in self.capabilities

    @property
    def is_admin(self) -> bool:
        return self.capabilities is None
