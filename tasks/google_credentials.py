"""Google clients that fail with a sentence a person can act on when the worker has no credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from google.auth.exceptions import DefaultCredentialsError

T = TypeVar("T")


class MissingGoogleCredentials(RuntimeError):
    """No application default credentials where a Google API is needed."""

    def __init__(self, what: str):
        super().__init__(
            f"no Google credentials for {what}: on a worker, attach a service account (Cloud Run, GCE, GKE) or set "
            "GOOGLE_APPLICATION_CREDENTIALS to a key file; on a laptop, run `gcloud auth application-default login`"
        )


def with_credentials(what: str, make: Callable[[], T]) -> T:
    """`make()` (a Google API client), with a missing-credentials failure said in one actionable line."""
    try:
        return make()
    except DefaultCredentialsError:
        raise MissingGoogleCredentials(what) from None
