"""Shared view helpers for the "POST → call a service → message → redirect"
pattern, and the one place that turns a service's exception into the Chinese
text a user sees.

    return act(request, lambda: services.publish(inspection, request.user),
               success="检查结果已公示",
               redirect_to=("enforcement:inspection", inspection.pk))

`error_text(exc)` is the message for one failure; `act` runs a service call,
puts a success or error message on the request and returns the redirect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect

#: What a service raises for a refusal the user can act on; anything else is a bug (500).
FAILURES: tuple[type[BaseException], ...] = (ValidationError, PermissionDenied, ValueError)

#: Where to go: a URL, a URL name, or a (URL name, *args) tuple.
Target = str | Sequence[Any]


def error_text(exc: BaseException, *, sep: str = ";") -> str:
    """The user-facing (Chinese) text of a failure.

    A ValidationError gives all its messages (a field dict flattened in field
    order) joined by `sep`; any other exception with a `messages` list gives
    those; otherwise its str() (PermissionDenied, ValueError, a TransitionError
    …, which the services raise with a Chinese message). An empty text falls
    back to a generic one, so the user never sees a blank message.
    """
    texts = exc.messages if isinstance(exc, ValidationError) else getattr(exc, "messages", None)
    text = sep.join(str(m) for m in texts) if texts else str(exc)
    if text:
        return text
    return "无权执行此操作" if isinstance(exc, PermissionDenied) else "操作失败"


def _redirect(target: Target) -> HttpResponse:
    if isinstance(target, str):
        return redirect(target)
    return redirect(*target)


def act(
    request,
    fn: Callable[[], Any],
    *,
    success: str | Callable[[Any], str] | None,
    redirect_to: Target | Callable[[Any], Target],
    on_error: Target | None = None,
    errors: tuple[type[BaseException], ...] = FAILURES,
    bad_input: str | None = None,
    sep: str = ";",
) -> HttpResponse:
    """Run one service call `fn()` for a POST and answer with a redirect.

    On success, `success` (a text, or a function of fn's result giving one;
    None for no message) is shown with messages.success and the user goes to `redirect_to` (a target,
    or a function of the result giving one). On one of `errors`, its
    `error_text` is shown with messages.error and the user goes to `on_error`
    (default: `redirect_to`, which must then not be a function).

    `bad_input`, when given, is the fixed message for a ValueError (or a
    decimal InvalidOperation) from parsing the form inside `fn`, e.g.
    "日期格式不正确", instead of the exception's own text.
    """
    try:
        result = fn()
    except (*errors, ValueError, InvalidOperation) as exc:
        if bad_input is not None and isinstance(exc, (ValueError, InvalidOperation)):
            messages.error(request, bad_input)
        elif isinstance(exc, errors):
            messages.error(request, error_text(exc, sep=sep))
        else:
            raise
        target = on_error if on_error is not None else redirect_to
        if callable(target):
            raise TypeError("act: a redirect_to that depends on the result needs on_error") from exc
        return _redirect(target)
    if success is not None:
        messages.success(request, success(result) if callable(success) else success)
    return _redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
