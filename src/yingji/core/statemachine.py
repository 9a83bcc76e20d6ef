"""One shape for the platform's state-transition tables (pure; no Django).

A table is a tuple of `Transition(action, sources, target, label)`: the action's
name, the state(s) it may start from, the state it leads to and its Chinese
label. `StateMachine` holds a table with the Chinese state labels and answers
the two questions the modules ask:

- by action (hazards, cases, look-backs, alerts): `transition(state, action)`;
- by target state (alarms, action cards, dispatch orders): `between(state, new)`.

Both raise the module's `TransitionError` subclass with a Chinese message naming
the labels. A source of ``None`` means "no state yet" (a new alarm). Rules beyond
the table (who may act, four eyes, required fields) stay in each module; a module
may subclass `Transition` to carry them in its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class TransitionError(ValueError):
    """A move the table does not allow; the message (Chinese) is for the user."""


@dataclass(frozen=True)
class Transition:
    """One allowed move. `sources` may be given as one state or several."""

    action: str
    sources: frozenset[str | None]
    target: str
    label: str

    def __post_init__(self) -> None:
        sources = self.sources
        one = sources is None or isinstance(sources, str)
        object.__setattr__(self, "sources", frozenset({sources} if one else sources))

    @property
    def source(self) -> str | None:
        """The one state this move starts from (ValueError when it has several)."""
        if len(self.sources) != 1:
            raise ValueError(f"“{self.label}”可从多个状态开始")
        return next(iter(self.sources))


class StateMachine:
    """States with Chinese labels and the table of allowed moves between them.

    `noun` names the thing in messages (“隐患”); the message templates may use
    {noun}, {state}, {action}, {sources} and {target} (labels, not codes)."""

    def __init__(
        self,
        labels: Mapping[str, str],
        transitions: Iterable[Transition],
        *,
        noun: str,
        error: type[TransitionError] = TransitionError,
        refused: str = "{noun}当前为“{state}”,不能“{action}”(须为“{sources}”)",
        unknown: str = "未知的操作:{action}",
        refused_step: str = "{noun}状态不能从“{state}”变为“{target}”",
    ) -> None:
        self.labels = labels
        self.transitions = tuple(transitions)
        self.noun, self.error = noun, error
        self._refused, self._unknown, self._refused_step = refused, unknown, refused_step
        self.by_action = {t.action: t for t in self.transitions}
        self._steps = {(s, t.target): t for t in self.transitions for s in t.sources}
        if len(self.by_action) != len(self.transitions):
            raise ValueError("状态表中的操作名重复")
        if len(self._steps) != sum(len(t.sources) for t in self.transitions):
            raise ValueError("状态表中同一对状态之间有多个操作")
        for t in self.transitions:
            if t.target not in labels or not t.sources <= {None, *labels}:
                raise ValueError(f"“{t.label}”用到了未定义的状态")

    def label(self, state: str | None) -> str:
        """The Chinese label of `state` ("无" for no state yet, the code if unknown)."""
        return self.labels.get(state, state) if state else "无"

    def choices(self) -> list[tuple[str, str]]:
        """(value, label) pairs for a Django field's `choices`, in table order."""
        return [(str(state), label) for state, label in self.labels.items()]

    def allowed(self, state: str | None) -> list[Transition]:
        """The moves from `state`, in table order."""
        return [t for t in self.transitions if state in t.sources]

    def targets(self, state: str | None) -> frozenset[str]:
        """The states reachable from `state` in one move."""
        return frozenset(t.target for t in self.allowed(state))

    def transition(self, state: str | None, action: str) -> Transition:
        """The move `action` makes from `state`, or the error saying why not."""
        t = self.by_action.get(action)
        if t is None:
            raise self.error(
                self._unknown.format(
                    noun=self.noun, state=self.label(state), action=action, sources="", target=""
                )
            )
        if state not in t.sources:
            sources = "”或“".join(self.label(s) for s in (None, *self.labels) if s in t.sources)
            raise self.error(
                self._refused.format(
                    noun=self.noun,
                    state=self.label(state),
                    action=t.label,
                    sources=sources,
                    target=self.label(t.target),
                )
            )
        return t

    def target(self, state: str | None, action: str) -> str:
        """The state after `action` from `state`."""
        return self.transition(state, action).target

    def between(self, state: str | None, new: str) -> Transition:
        """The move from `state` to `new`, or the error saying it is not allowed."""
        t = self._steps.get((state, new))
        if t is None:
            raise self.error(
                self._refused_step.format(
                    noun=self.noun,
                    state=self.label(state),
                    target=self.label(new),
                    action="",
                    sources="",
                )
            )
        return t
