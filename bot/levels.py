"""Levels: sectors and regions roll up into broader ones.

Each region (or sector) of bot.toml may name a ``parent`` in the same list: a city rolls up
into its province, the province into its region, then the country and Europe; a sector into a
family of sectors. A key without a parent is a top of its own (Europe, "online", a family).
The configuration is checked when it is loaded (``hierarchy_problem``): a parent that is not
in the list, or parents that go round in a circle, stop start-up with the entry named.

A report over Flanders counts what was recorded in Flanders itself and in every province and
city below it: ``descendants("flanders")``; a breakdown by province rolls each city up to its
ancestor at that depth: ``at_level(key, 3)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol


class Ranked(Protocol):
    """What a level needs of an entry: its key and the key of its parent (or None)."""

    @property
    def key(self) -> str: ...

    @property
    def parent(self) -> str | None: ...


def hierarchy_problem(terms: Sequence[Ranked]) -> str | None:
    """What is wrong with the parents of ``terms`` (a parent not in the list, an entry that is
    its own ancestor), in one sentence naming the entry; None when the tree is sound."""
    parents = {term.key: term.parent for term in terms}
    for term in terms:
        if term.parent is not None and term.parent not in parents:
            return (
                f"entry `{term.key}` names parent `{term.parent}`, which is not a key of this "
                f"list (known: {', '.join(sorted(parents))})"
            )
    for term in terms:
        path = [term.key]
        parent = term.parent
        while parent is not None:
            if parent in path:
                chain = " → ".join([*path[path.index(parent) :], parent])
                return f"entry `{term.key}` is its own ancestor: {chain}; a parent must be broader"
            path.append(parent)
            parent = parents[parent]
    return None


class Hierarchy:
    """The tree of one list (regions or sectors) of a sound configuration.

    Keys the configuration does not know (an old post's region that was since removed from
    bot.toml) are treated as tops of their own: they have no ancestors and no descendants but
    themselves, so nothing recorded under them is lost from a report that names them.
    """

    def __init__(self, terms: Iterable[Ranked]):
        self._order: list[str] = []
        self._parent: dict[str, str | None] = {}
        self._children: dict[str, list[str]] = {}
        for term in terms:
            self._order.append(term.key)
            self._parent[term.key] = term.parent
            self._children.setdefault(term.key, [])
        for key in self._order:
            parent = self._parent[key]
            if parent is not None:
                self._children.setdefault(parent, []).append(key)

    def __contains__(self, key: object) -> bool:
        return key in self._parent

    def keys(self) -> list[str]:
        """Every key, in the configuration's order."""
        return list(self._order)

    def parent(self, key: str) -> str | None:
        """The key ``key`` rolls up into, or None at the top."""
        return self._parent.get(key)

    def children(self, key: str) -> list[str]:
        """The keys directly below ``key``, in the configuration's order."""
        return list(self._children.get(key, ()))

    def roots(self) -> list[str]:
        """The keys at the top (no parent)."""
        return [key for key in self._order if self._parent[key] is None]

    def leaves(self) -> list[str]:
        """The keys with nothing below them (the cities, the sectors themselves)."""
        return [key for key in self._order if not self._children[key]]

    def ancestors(self, key: str) -> list[str]:
        """The broader keys ``key`` rolls up into, nearest first: gent → oost-vlaanderen →
        flanders → belgium → europe."""
        found: list[str] = []
        parent = self._parent.get(key)
        while parent is not None:
            found.append(parent)
            parent = self._parent.get(parent)
        return found

    def descendants(self, key: str) -> list[str]:
        """``key`` itself and every key below it, at any depth (a region with all its
        sub-regions), ``key`` first, then depth first in the configuration's order."""
        found: list[str] = []
        todo = [key]
        while todo:
            current = todo.pop()
            found.append(current)
            todo.extend(reversed(self._children.get(current, ())))
        return found

    def level(self, key: str) -> int:
        """How far below the top ``key`` is: 0 for a top (Europe), 1 for what is directly
        below it (Belgium), and so on."""
        return len(self.ancestors(key))

    def at_level(self, key: str, level: int) -> str:
        """What ``key`` rolls up to at ``level`` (its ancestor there); ``key`` itself when it
        is at that level or above it (a province asked for at city level stays the province)."""
        chain = [key, *self.ancestors(key)]  # nearest first, the top last
        depth = len(chain) - 1
        if level >= depth:
            return key
        return chain[depth - level]

    def within(self, key: str, scope: str) -> bool:
        """Whether ``key`` is ``scope`` or below it."""
        return key == scope or scope in self.ancestors(key)
