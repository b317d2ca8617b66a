"""Bounds of the user-editable templates (issue #11, docs/security.md).

``jinja2.sandbox`` keeps a template away from the code; this module keeps it within time and memory:

* **time**: a render stops after :data:`RENDER_SECONDS` — the template's own compiled code is traced
  (``sys.settrace`` on the frames Jinja compiled, nothing else), so a loop that writes nothing stops too;
* **output**: a render stops after :data:`MAX_OUTPUT` characters (counted while Jinja streams them);
* **sizes**: ``*``, ``**`` and ``%`` between a string or list and a number, padding (``center``,
  ``indent``, ``ljust``, ``"{:>999999}"``…) and ``range`` refuse results beyond :data:`MAX_SIZE`;
* **one text**: ``include``, ``import``, ``from`` and ``extends`` find nothing (a template is one text).

Every failure becomes :class:`BoundExceeded` or a Jinja error, which ``messages.render_source`` turns into
the editor's own message (``TemplateProblem``) — never an HTTP 500.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import FrameType
from typing import Any

from jinja2 import DictLoader, StrictUndefined, Template
from jinja2.filters import do_center, do_format, do_indent
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

RENDER_SECONDS = 2.0
MAX_OUTPUT = 200_000  # characters of one rendered subject or body
MAX_SIZE = 100_000  # characters (or items) of any value a template builds
MAX_RANGE = 10_000
MAX_EXPONENT_BITS = 4_000
_PRINTF_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)")
_TEMPLATE_FILES = frozenset({"<template>"})


class BoundExceeded(Exception):
    """A template went past one of the bounds; ``str()`` says which, in French."""


def _check_size(n: float, what: str) -> None:
    if n > MAX_SIZE:
        raise BoundExceeded(f"{what} trop grand ({MAX_SIZE:,} caractères ou éléments au plus)".replace(",", "\u202f"))


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_printf(spec: str) -> None:
    for width, precision in _PRINTF_WIDTH.findall(spec):
        for n in (width, precision):
            if n == "*" or (n and int(n) > MAX_SIZE):
                raise BoundExceeded("largeur de mise en forme trop grande")


def _check_format(spec: str) -> None:
    for n in _FORMAT_WIDTH.findall(spec):
        if len(n) > 6 or int(n) > MAX_SIZE:
            raise BoundExceeded("largeur de mise en forme trop grande")


def _bounded_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise BoundExceeded(f"range() trop long ({MAX_RANGE:,} éléments au plus)".replace(",", "\u202f"))
    return rng


def _center(value: str, width: int = 80) -> str:
    _check_size(width, "centrage")
    return do_center(value, width)


def _indent(value: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    _check_size(width if isinstance(width, int) else len(width), "retrait")
    return do_indent(value, width, first, blank)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_printf(str(value))
    return do_format(value, *args, **kwargs)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the size bounds above."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *, html: bool):
        super().__init__(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=False,
                         loader=DictLoader({}))
        self.globals["range"] = _bounded_range
        self.filters.update({"center": _center, "indent": _indent, "format": _format})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > 2 * MAX_EXPONENT_BITS:
                    raise BoundExceeded("nombre trop grand")
            for seq, n in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(n, int):
                    _check_size(size * n, "texte ou liste")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
                if right * math.log2(abs(left)) > MAX_EXPONENT_BITS:
                    raise BoundExceeded("nombre trop grand")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        elif operator == "+":
            a, b = _sized(left), _sized(right)
            if a is not None and b is not None:
                _check_size(a + b, "texte ou liste")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format and str.format_map
        name = getattr(target, "__name__", "")
        if isinstance(getattr(target, "__self__", None), str):
            if name in {"ljust", "rjust", "center", "zfill", "expandtabs"}:
                for n in (*args, *kwargs.values()):
                    if isinstance(n, int):
                        _check_size(n, "texte")
            elif name in {"format", "format_map"}:
                _check_format(target.__self__)
            elif name in {"join", "replace"}:
                pass  # bounded by their operands, which are bounded
        return super().call(__context, __obj, *args, **kwargs)


_ENVIRONMENTS = {False: BoundedSandbox(html=False), True: BoundedSandbox(html=True)}


@lru_cache(maxsize=256)
def compiled(source: str, html: bool) -> Template:
    return _ENVIRONMENTS[html].from_string(source)


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Trace the template's own frames (Jinja compiles them from ``<template>``) and stop them when
    the time is over. Other frames are not traced: the cost stays with the templates."""
    end = time.monotonic() + seconds
    previous = sys.gettrace()

    def local(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if time.monotonic() > end:
            raise BoundExceeded(f"rendu trop long (plus de {seconds:g} s) : une boucle sans fin ?")
        return local

    def global_trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code.co_filename in _TEMPLATE_FILES:
            return local(frame, event, arg)
        return None

    sys.settrace(global_trace)
    try:
        yield
    finally:
        sys.settrace(previous)


def render(template: Template, context: dict[str, Any], seconds: float = RENDER_SECONDS,
           max_output: int = MAX_OUTPUT) -> str:
    """The template rendered within the bounds (:class:`BoundExceeded` otherwise)."""
    parts: list[str] = []
    size = 0
    with _deadline(seconds):
        for part in template.generate(context):
            size += len(part)
            if size > max_output:
                raise BoundExceeded(f"texte produit trop long (plus de {max_output:,} caractères)".replace(",", "\u202f"))
            parts.append(part)
    return "".join(parts)
