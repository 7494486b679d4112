"""Active probes: enqueue small ``wait=True`` jobs and time the round trip through the grid.

This writes (it schedules real jobs), so it refuses on a read-only ``Admin``.

>>> probe(admin, [1, 2, "node"], n=3, timeout=10)         # doctest: +SKIP
  target                              guid  sent  received  round_trip state
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .. import keys
from ..domain import split_jumpscript
from ..errors import JobTimeoutError, ReadOnlyError, WriteValidationError
from .info import Analysed, ProbeInfo, mirrored

PROBE_COLUMNS = ("target", "guid", "sent", "received", "round_trip", "state", "error")


def _split_jumpscript(jumpscript: str) -> tuple[str, str]:
    try:
        return split_jumpscript(jumpscript)
    except ValueError as exc:
        raise WriteValidationError(str(exc)) from None


def _grid_id(admin: Any) -> int:
    """The grid id: the attached demo grid's, else the only field of ``jobs:last`` (HSCAN, bounded)."""
    grid = getattr(admin, "grid", None)
    if grid is not None and isinstance(getattr(grid, "gid", None), int):
        return grid.gid
    gids = {
        int(field)
        for field, _ in admin.redis.hscan_iter(keys.JOBS_LAST, count=100)
        if str(field.decode() if isinstance(field, bytes) else field).isdigit()
    }
    if len(gids) == 1:
        return gids.pop()
    raise WriteValidationError(
        f"cannot tell the grid id ({'no' if not gids else len(gids)} grids in {keys.JOBS_LAST}); pass gid="
    )


def _probe_target(
    admin: Any,
    gid: int,
    target: int | str,
    category: str,
    cmd: str,
    n: int,
    timeout: float,
    rows: list[dict[str, Any]],
) -> None:
    where = {"role": target} if isinstance(target, str) else {"nid": int(target)}
    for i in range(n):
        row: dict[str, Any] = {"target": str(target), "guid": None, "error": None}
        row["sent"] = pd.Timestamp.now(tz="UTC")
        t0 = time.perf_counter()
        try:
            job = admin.enqueue_job(
                gid,
                category=category,
                cmd=cmd,
                args={"msg": f"jsadmin probe {i + 1}/{n}"},
                timeout=timeout,
                wait=True,
                log=False,
                **where,
            )
            row["guid"] = job["guid"]
            result = admin.wait_job(job["guid"], timeout)
            elapsed = time.perf_counter() - t0
            row["received"] = row["sent"] + pd.Timedelta(seconds=elapsed)
            row["round_trip"] = elapsed
            row["state"] = str(result.get("state"))
        except JobTimeoutError as exc:
            row.update(received=pd.NaT, round_trip=float("nan"), state="NO_RESULT", error=str(exc))
        rows.append(row)


def probe_with_info(
    admin: Any,
    targets: int | str | Iterable[int | str],
    jumpscript: str = "jumpscale__echo",
    n: int = 5,
    timeout: float = 10,
    *,
    gid: int | None = None,
) -> Analysed[ProbeInfo]:
    """Send ``n`` ``wait=True`` jobs of ``jumpscript`` to each target and time each round trip;
    the :class:`~jsadmin.analytics.info.ProbeInfo` says what was sent (``jumpscript``, ``gid``).

    ``targets``: node ids (int) and/or roles (str); targets are probed in parallel, the ``n``
    jobs of one target one after another. Each job goes through ``admin.enqueue_job`` and
    ``admin.wait_job``. The frame has one row per job: ``target``, ``guid``, ``sent``, ``received``
    (UTC), ``round_trip`` (a ``Timedelta``, ``NaT`` when no result came within ``timeout``), ``state`` (the
    job's final state, or ``NO_RESULT``) and ``error``. Raises :class:`ReadOnlyError` on a
    read-only Admin.

    >>> rounds, info = probe_with_info(admin, [1], n=2)          # doctest: +SKIP
    >>> info.jumpscript                                           # doctest: +SKIP
    'jumpscale__echo'
    """
    if getattr(admin, "readonly", True):
        raise ReadOnlyError(
            "probe enqueues jobs and is refused on a read-only Admin; "
            "open it with jsadmin.connect(url, readonly=False)"
        )
    if isinstance(targets, int | str):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise WriteValidationError("probe needs at least one target (a node id or a role)")
    for t in targets:
        if isinstance(t, bool) or not isinstance(t, int | str) or (isinstance(t, str) and not t):
            raise WriteValidationError(
                f"probe targets are node ids (int) or roles (str), got {t!r}"
            )
    if not isinstance(n, int) or n < 1:
        raise WriteValidationError(f"n must be a positive int, got {n!r}")
    if not timeout > 0:
        raise WriteValidationError(f"timeout must be > 0 seconds, got {timeout!r}")
    category, cmd = _split_jumpscript(jumpscript)
    gid = _grid_id(admin) if gid is None else gid
    per_target: list[list[dict[str, Any]]] = [[] for _ in targets]
    errors: list[BaseException] = []

    def worker(i: int, target: int | str) -> None:
        try:
            _probe_target(admin, gid, target, category, cmd, n, timeout, per_target[i])
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(i, t), name=f"jsadmin-probe-{t}", daemon=True)
        for i, t in enumerate(targets)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    rows = [row for rows in per_target for row in rows]
    df = pd.DataFrame(rows, columns=list(PROBE_COLUMNS))
    for col in ("target", "guid", "state", "error"):
        df[col] = df[col].astype("string")
    for col in ("sent", "received"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    df["round_trip"] = pd.to_timedelta(df["round_trip"].astype("float64"), unit="s").dt.round("us")
    return Analysed(df, ProbeInfo(f"{category}__{cmd}", gid))


probe = mirrored(probe_with_info, """The frame of :func:`probe_with_info` (its ``ProbeInfo``
    mirrored in ``attrs`` for one release).

    >>> probe(admin, [1, 2], n=3).groupby("target").round_trip.median()   # doctest: +SKIP
    """)
