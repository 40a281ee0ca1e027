"""Brute force against logins: a user whose password is given wrongly ``lockout_failures`` times in a row is
locked out for ``lockout_s`` (the right password is refused too, until then); an address that gives
``address_failures`` wrong logins within ``lockout_s`` is refused for ``lockout_s``. Kept in the serving process's
memory (a restart forgets it, as it forgets nothing else that matters)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sharpeyes.core.errors import TooManyAttemptsError
from sharpeyes.core.settings import AuthSettings

MOST_TRACKED = 100_000
"""Users and addresses remembered at once (the oldest are forgotten beyond this)."""


class LoginGuard:
    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._user_failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._address_failures: dict[str, deque[float]] = {}
        self._address_blocked_until: dict[str, float] = {}

    def check(self, username: str, address: str) -> None:
        """``TooManyAttemptsError`` when the user is locked out or the address refused now."""
        now = self._clock()
        with self._lock:
            blocked = self._address_blocked_until.get(address, 0.0)
            locked = self._locked_until.get(username, 0.0)
        if blocked > now:
            raise TooManyAttemptsError(
                f"too many wrong logins from {address}: try again in {blocked - now:.0f} s / 登录失败次数过多",
                blocked - now,
                code="address_blocked",
            )
        if locked > now:
            raise TooManyAttemptsError(
                f"user {username!r} is locked out after {self._settings.lockout_failures} wrong passwords: try again "
                f"in {locked - now:.0f} s / 账户已锁定",
                locked - now,
                code="locked_out",
            )

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            failures = self._user_failures.get(username, 0) + 1
            self._user_failures[username] = failures
            if failures >= self._settings.lockout_failures:
                self._locked_until[username] = now + self._settings.lockout_s
                self._user_failures[username] = 0
            times = self._address_failures.setdefault(address, deque())
            times.append(now)
            while times and now - times[0] > self._settings.lockout_s:
                times.popleft()
            if len(times) >= self._settings.address_failures:
                self._address_blocked_until[address] = now + self._settings.lockout_s
                times.clear()
            self._forget_oldest()

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._user_failures.pop(username, None)

    def _forget_oldest(self) -> None:
        for table in (self._user_failures, self._locked_until, self._address_failures, self._address_blocked_until):
            while len(table) > MOST_TRACKED:
                del table[next(iter(table))]
