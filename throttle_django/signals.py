"""Signals: `request_refused(sender, request, decision)`, sent for each request answered 429.

`sender` is the view the request was routed to (its function, or its class for a class-based
view; None for a request no URL matched), `request` the `HttpRequest` and `decision` its
`Decision` (`decision.violated` names the limits that refused it). Receivers run before the
response is sent; one that raises is logged and never turns the 429 into a 500.
"""

from __future__ import annotations

from django.dispatch import Signal

request_refused = Signal()
