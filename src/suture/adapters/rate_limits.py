"""Per-caller request budgets with the ``limits`` library: in memory, or shared through Redis.

Strategy: **moving window** ("no more than N requests in any period"), not fixed windows, which
let a caller spend twice its budget across a window boundary. Its cost is one stored timestamp
per request in the window (600 for "600/minute"), in a Redis list driven by a Lua script, so
several API processes on one Redis share one budget exactly. Without Redis each process keeps
its own budget in memory.

If Redis cannot be reached, the limiter falls back to its in-memory budget for that request (a
per-process budget, logged) rather than refusing every API call or letting them all through;
the next request tries Redis again.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """One charge against a budget: allowed or not, and what the rate-limit headers say."""

    allowed: bool
    limit: int
    remaining: int
    #: Whole seconds until the budget has room again (the oldest counted request ages out).
    reset_after: int


class RateLimiter:
    """Budgets per API client (``client_limit``) and per remote address (``address_limit``,
    for the unauthenticated token endpoint)."""

    def __init__(
        self,
        storage_url: str = "memory://",
        *,
        client_limit: str = "600/minute",
        address_limit: str = "30/minute",
        key_prefix: str = "suture",
    ) -> None:
        self.client_limit = parse(client_limit)
        self.address_limit = parse(address_limit)
        self._prefix = key_prefix
        self._shared = storage_url != "memory://"
        self._storage = (
            storage.storage_from_string(storage_url, key_prefix=key_prefix)
            if self._shared
            else storage.MemoryStorage()
        )
        self._strategy = strategies.MovingWindowRateLimiter(self._storage)
        self._fallback = (
            strategies.MovingWindowRateLimiter(storage.MemoryStorage()) if self._shared else None
        )

    @property
    def shared(self) -> bool:
        """Whether the budgets live in Redis, shared by every process using it."""
        return self._shared

    def charge_client(self, client_id: str) -> RateDecision:
        return self._charge(self.client_limit, "client", client_id)

    def charge_address(self, address: str) -> RateDecision:
        return self._charge(self.address_limit, "address", address)

    def _charge(self, item: RateLimitItem, kind: str, key: str) -> RateDecision:
        try:
            return self._decide(self._strategy, item, kind, key)
        except Exception as error:  # any storage failure (Redis down, timeout): see the docstring
            if self._fallback is None:
                raise
            log.warning("rate limit storage unreachable, using this process's budget: %s", error)
            return self._decide(self._fallback, item, kind, key)

    def _decide(
        self, strategy: strategies.RateLimiter, item: RateLimitItem, kind: str, key: str
    ) -> RateDecision:
        allowed = strategy.hit(item, self._prefix, kind, key)
        stats = strategy.get_window_stats(item, self._prefix, kind, key)
        return RateDecision(
            allowed=allowed,
            limit=item.amount,
            remaining=max(stats.remaining, 0),
            reset_after=max(math.ceil(stats.reset_time - time.time()), 0),
        )
