"""The project's few named exceptions.

EnrichError
 ├── ConfigError          bad configuration (exit 2 at the CLI)
 ├── InputError           an unreadable input path (exit 2 naming it)
 ├── ParseError           a body that cannot be parsed as what it claims to be
 └── FetchError           a request that did not yield a usable answer, after retries
      ├── RetriesExhausted    transient faults (429/5xx/timeouts/error-in-200) outlasted the retries -> `failed`
      ├── Deferred            the server asked us to wait longer than we will (Retry-After cap) -> `pending`
      ├── BudgetExhausted     OpenAlex's daily budget is spent; stop asking this run -> `pending`
      └── Unreachable         the host could not be reached at all (DNS, refused) -> `pending`
"""

from __future__ import annotations


class EnrichError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(EnrichError):
    """A configuration value is missing or malformed."""


class InputError(EnrichError):
    """An input path is missing or cannot be read."""


class ParseError(EnrichError):
    """A body could not be parsed as the format it claims. The message is one line whatever
    the body quoted in it holds (it becomes a log line and a ledger ``last_error``)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(" ".join(str(message).split()))


class FetchError(EnrichError):
    """A request did not yield a usable answer.

    ``status`` is the ledger status the identifiers it covered should get (failed or pending),
    ``http_status`` the last HTTP status seen (None for network errors), ``attempts`` the number of
    requests sent.
    """

    status = "failed"

    def __init__(self, message: str, *, http_status: int | None = None, attempts: int = 0):
        super().__init__(message)
        self.http_status = http_status
        self.attempts = attempts


class RetriesExhausted(FetchError):
    """Transient faults outlasted the retry budget."""

    status = "failed"


class Deferred(FetchError):
    """The server asked for a longer wait than the configured cap; try again in a later run."""

    status = "pending"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class BudgetExhausted(Deferred):
    """OpenAlex's daily budget is spent (429 with X-RateLimit-Remaining below what is required)."""


class Unreachable(FetchError):
    """The host could not be reached at all (name resolution failed, connection refused)."""

    status = "pending"
