"""Leadership: which worker may write to Gerrit, fenced by a lease with a deadline.

The leader lock (coordination.py) alone was not enough: a leader whose lock
session died (database restart, network blip) kept writing while a standby
took the lock and wrote too, and a frozen leader (SIGSTOP, a stalled VM) kept
its lock, and so everyone else on standby, forever. So leadership is a lease
stored in the database (`sync_state` row LEASE_KEY):

    {"holder": who, "token": n, "expires": database clock + lease_seconds, "locked": bool}

changed only by compare-and-set. The token grows by one at every change of
holder (a fencing token). A worker leads while the lease is its own; it renews
it every lease_seconds / 3 (a heartbeat) and, as the fence, right before every
Gerrit write: a write is sent only when the renewal succeeded, and, for a
lease taken with the lock, while the lock's session is alive. A standby takes
the lease when

- it expired (the holder is frozen or gone): within lease_seconds + one
  heartbeat of the last renewal; or
- it got the leader lock while the lease says its holder held that lock: the
  holder's lock session is gone (it died, or its database session was
  dropped), so it is fenced already and need not be waited for.

A frozen leader that wakes finds the token moved, stops before its next write,
and releases its lock; a fence whose renewal took over a third of the lease (it
may have been frozen after its commit) fails too. The remaining window is one
write already past its fence (a process frozen between the fence's return and
the send); Gerrit offers nothing
to fence against, and the read-back of writes (writeback.py) bounds the rest.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace

from sqlalchemy.engine import Engine

from reviewbot.service.coordination import Lock
from reviewbot.store import locks as store_locks
from reviewbot.store import session_scope

log = logging.getLogger(__name__)

LEASE_KEY = "leader.lease"


@dataclass(frozen=True)
class Lease:
    holder: str
    token: int
    expires: float
    locked: bool

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def parse(raw: str | None) -> Lease | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return Lease(str(data["holder"]), int(data["token"]), float(data["expires"]),
                         bool(data["locked"]))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: treated as expired, replaced with a readable one


def may_take(current: Lease | None, now: float, have_lock: bool) -> bool:
    """Whether a worker that does not hold `current` may take it (a pure rule)."""
    if current is None or current.expires <= now:
        return True
    # The lock is free only when its holder's session is gone: that holder is fenced.
    return have_lock and current.locked


class Leadership:
    """One worker's claim to lead. Thread-safe: the cycle and the heartbeat share it."""

    def __init__(self, engine: Engine, lock: Lock, lease_seconds: float,
                 holder: str | None = None):
        self.engine = engine
        self.lock = lock
        self.lease_seconds = float(lease_seconds)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease: Lease | None = None  # exactly what we last stored, while we lead
        # Set when we took a lease that had not expired (its holder's lock session was
        # gone): that holder may still have had one write in flight (see Worker.tick).
        self.replaced_live_holder = False
        self._mutex = threading.Lock()

    @property
    def token(self) -> int | None:
        lease = self.lease
        return lease.token if lease else None

    def acquire(self) -> bool:
        """Lead if we may (renewing our lease, or taking a free one); False: stand by."""
        with self._mutex:
            have_lock = self.lock.try_acquire()
            with session_scope(self.engine) as session:
                now = store_locks.database_clock(session)
                raw = store_locks.read_lease(session, LEASE_KEY)
                current = Lease.parse(raw)
                mine = current if current is not None and current.holder == self.holder else None
                ours = mine is not None
                if mine is not None and mine.locked and not have_lock:
                    # Our lock session died and someone else has the lock: step down.
                    return self._lost("the leader lock was lost")
                if not ours and not may_take(current, now, have_lock):
                    if have_lock:
                        # The lease holder leads without the lock (it replaced a frozen
                        # holder that released the lock since): let it have the lock.
                        self.lock.release()
                    self.lease = None
                    return False
                token = mine.token if mine is not None else (current.token if current else 0) + 1
                new = Lease(self.holder, token, now + self.lease_seconds, have_lock)
                if not store_locks.swap_lease(session, LEASE_KEY, raw, new.text()):
                    return self._lost("another worker changed the lease first")
            if not ours:
                self.replaced_live_holder = current is not None and current.expires > now
                log.info("leadership: lease taken, token %d%s", token,
                         "" if current is None else f" (was {current.holder}, token "
                         f"{current.token})")
            self.lease = new
            return True

    def still_leading(self) -> bool:
        """The fence, checked right before every Gerrit write: renew the lease, or learn that
        it is gone (and stop). Never raises: a database it cannot reach proves nothing."""
        with self._mutex:
            lease = self.lease
            if lease is None:
                return False
            started = time.monotonic()
            try:
                if lease.locked and not self.lock.still_held():
                    return self._lost("the leader lock's session is gone")
                with session_scope(self.engine) as session:
                    now = store_locks.database_clock(session)
                    new = replace(lease, expires=now + self.lease_seconds)
                    if not store_locks.swap_lease(session, LEASE_KEY, lease.text(), new.text()):
                        return self._lost("the lease was taken over")
            except Exception as exc:  # cannot renew = cannot prove we lead
                return self._lost(f"the lease could not be renewed ({exc})")
            self.lease = new
            if time.monotonic() - started > self.lease_seconds / 3:
                # A renewal this slow may have been frozen after its commit for longer than
                # the lease it renewed (SIGSTOP, a stalled VM): a standby may lead by now,
                # and the write this fence guards would go out twice. Safety first: step
                # down; the next heartbeat takes the lease back if it is still ours.
                return self._lost("the renewal took longer than a third of the lease")
            return True

    def release(self) -> None:
        """On a clean stop: expire our lease (a standby takes over at once) and the lock."""
        with self._mutex:
            lease, self.lease = self.lease, None
            if lease is not None:
                try:
                    with session_scope(self.engine) as session:
                        store_locks.swap_lease(session, LEASE_KEY, lease.text(),
                                               replace(lease, expires=0.0).text())
                except Exception:  # it expires by itself anyway
                    log.debug("leadership: could not expire the lease on release")
            self.lock.release()

    def _lost(self, why: str) -> bool:
        if self.lease is not None:
            log.warning("leadership lost (token %d): %s; no more Gerrit writes from this "
                        "worker until it leads again", self.lease.token, why)
        self.lease = None
        self.lock.release()
        return False
