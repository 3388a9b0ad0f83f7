"""Access tokens for API calls: a fixed token, or OAuth client-credentials tokens cached until they expire."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cloud_client.credentials import CredentialRef, Credentials, Secret, resolve_credentials
from cloud_client.errors import AuthError, InvalidCredentialsError, InvalidResponseError, RateLimitedError
from cloud_client.session import ApiSession, TokenSource
from cloud_client.token_memory import TokenMemory, credentials_key

__all__ = [
    "CredentialRef",
    "Credentials",
    "OAuthTokenSource",
    "Secret",
    "StaticTokenSource",
    "resolve_credentials",
    "token_source_for",
]

log = logging.getLogger("cloud_client.auth")

TOKEN_PATH = "/oauth/token"
# Renew this long before the expiry the server announced, so a token never dies in flight.
_RENEW_MARGIN_S = 60.0
TOKEN_429_RETRIES = 3
"""A 429 from the token endpoint is retried three times with back-off (a passing burst), then token requests stop for a
while: during the 30-minute lock-out every request would only be refused again."""


class StaticTokenSource:
    """A token given by the engineer (e.g. an API user's token, which never expires); it cannot be renewed."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def token(self) -> str:
        return self._token.reveal()

    def invalidate(self, token: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticTokenSource(token=********)"


class OAuthTokenSource:
    """Exchanges a product OAuth client's id and secret for a token (``grant_type=client_credentials``).

    The token is cached until shortly before it expires and renewed on demand or after a 401. A refused client
    (``invalid_client``/``invalid_grant``) is remembered: later calls raise at once instead of asking again, because
    ten failed token requests in a row lock the station's IP out for 30 minutes
    (docs.particle.io Cloud API, 'API rate limits').
    ``scope`` (e.g. ``customer=someone@example.com``) asks for a scoped token. With ``memory``, a refusal and a 429
    from the token endpoint are remembered across restarts too (see ``cloud_client.token_memory``).
    """

    def __init__(
        self,
        session: ApiSession,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        scope: str | None = None,
        memory: TokenMemory | None = None,
    ) -> None:
        if credentials.client_id is None or credentials.client_secret is None:
            raise AuthError(f"{credentials.source}: an OAuth client id and secret are needed for this operation")
        self._session = session
        self._client_id = credentials.client_id
        self._client_secret = credentials.client_secret
        self._source = credentials.source
        self._clock = clock
        self._scope = scope
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._renew_at = 0.0
        self._refused: InvalidCredentialsError | None = None
        self._memory = memory
        self._key = credentials_key(str(session.http.base_url), self._client_id,
                                    f"{self._client_secret.reveal()}\0{scope or ''}")
        self.requests_made = 0
        """How many token requests this source sent (for tests and diagnostics)."""

    def __repr__(self) -> str:
        return f"OAuthTokenSource(client_id={self._client_id!r}, client_secret=********, scope={self._scope!r})"

    def token(self) -> str:
        with self._lock:
            if self._refused is not None:
                raise InvalidCredentialsError(
                    str(self._refused), operation=self._refused.operation, status=self._refused.status,
                    api_message=self._refused.api_message,
                )
            if self._token is None or self._clock() >= self._renew_at:
                self._check_memory()
            if self._token is None or self._clock() >= self._renew_at:
                self._token = self._fetch()
            return self._token.reveal()

    def invalidate(self, token: str) -> bool:
        with self._lock:
            if self._refused is not None:
                return False
            if self._token is not None and self._token == Secret(token):
                self._token = None
            return True

    def _what(self) -> str:
        what = f"get an access token for OAuth client {self._client_id!r} ({self._source})"
        return what if self._scope is None else f"{what} with scope {self._scope}"

    def _own_memory(self) -> TokenMemory:
        """Without a memory file, a block is still kept for the life of this process."""
        if self._memory is None:
            self._memory = TokenMemory(None)
        return self._memory

    def _check_memory(self) -> None:
        """Raise without a request when an earlier process saw these credentials refused, or is blocked (429)."""
        if self._memory is None:
            return
        what = self._what()
        refusal = self._memory.refusal(self._key)
        if refusal is not None:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(refusal.at))
            said = refusal.api_message or "no reason"
            where = self._memory.path or "nothing"
            self._refused = InvalidCredentialsError(
                f"{what}: these credentials were refused at {when} (Particle said: {said}); fix the credentials "
                f"in {self._source} and restart. The station does not ask again with the same ones (10 failures "
                f"in a row lock this IP out for 30 minutes); to try them anyway, delete {where}",
                operation=what, status=refusal.status, api_message=refusal.api_message,
            )
            raise self._refused
        until = self._memory.blocked_until(self._key)
        if until is not None:
            raise RateLimitedError(
                f"{what}: the token endpoint refused this station with HTTP 429 (rate limit or the 30-minute lock-out"
                f" after failed token requests); no token request is sent before "
                f"{time.strftime('%H:%M:%S', time.localtime(until))}",
                operation=what, status=429,
            )

    def _fetch(self) -> Secret:
        what = self._what()
        form = {"grant_type": "client_credentials"}
        if self._scope is not None:
            form["scope"] = self._scope
        self.requests_made += 1
        try:
            reply = self._session.request(
                what, "POST", TOKEN_PATH, tokens=None, basic=(self._client_id, self._client_secret.reveal()),
                data=form, rate_limit_retries=TOKEN_429_RETRIES,
            )
        except RateLimitedError as exc:
            # Retried only three times, with back-off (docs.particle.io 'API rate limits': never at once): during the
            # lock-out every request would only be refused again. Then block token requests for a growing while,
            # across restarts when remembered.
            memory = self._memory or self._own_memory()
            wait = memory.remember_block(self._key)
            later = f"no token request is sent for {wait / 60:.0f} minutes"
            raise RateLimitedError(
                f"{what}: the token endpoint refused this station with HTTP 429 (rate limit, or the 30-minute "
                f"lock-out after failed token requests; Particle said: {exc.api_message or 'no reason'}); {later}",
                operation=what, status=exc.status, api_message=exc.api_message,
            ) from None
        except InvalidCredentialsError as exc:
            refused = "the client id or secret" if self._scope is None else f"the token for {self._scope}"
            fix = (f"fix the credentials in {self._source} and restart" if self._scope is None
                   else "check that it exists (e.g. create the customer first)")
            self._refused = InvalidCredentialsError(
                f"{what}: {refused} was refused (Particle said: {exc.api_message or 'no reason'}); {fix}. "
                "No further token requests will be sent for it: 10 failures in a row lock this IP out for 30 minutes",
                operation=what, status=exc.status, api_message=exc.api_message,
            )
            if self._memory is not None:
                self._memory.remember_refusal(self._key, exc.status, exc.api_message)
            raise self._refused from None
        body = reply.json_object()
        access_token, expires_in = body.get("access_token"), body.get("expires_in", 0)
        if not isinstance(access_token, str) or not access_token or not isinstance(expires_in, int | float):
            raise InvalidResponseError(
                f"{what}: the token reply has no usable access_token/expires_in; try again, and report it if it "
                "persists", operation=what, status=reply.status,
            )
        # expires_in 0 means the token never expires (docs.particle.io Cloud API, 'Generate an access token').
        if self._memory is not None:
            self._memory.forget(self._key)
        lifetime = float(expires_in) if expires_in > 0 else float("inf")
        self._renew_at = self._clock() + max(lifetime - min(_RENEW_MARGIN_S, lifetime / 10), 0.0)
        log.info("%s: got a token valid for %s", what, "ever" if expires_in <= 0 else f"{int(expires_in)} s")
        return Secret(access_token)


def token_source_for(
    session: ApiSession, credentials: Credentials, *, clock: Callable[[], float] = time.monotonic,
    memory: TokenMemory | None = None,
) -> TokenSource:
    """The token source that fits the credentials: OAuth exchange for a client, the token itself otherwise."""
    if credentials.is_oauth_client:
        return OAuthTokenSource(session, credentials, clock=clock, memory=memory)
    assert credentials.access_token is not None
    return StaticTokenSource(credentials.access_token)
