"""Eight writers storing values of one run at once, each transaction one INSERT of several
codes in its own order, kept open a moment, some rolled back: what the trigger-kept
summaries (observation_count, observation_bin) must survive without a deadlock."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import create_engine, text

CODES = ["blood_flow", "pump_speed", "p_access", "sweep_flow", "hb"]


def write_at_once(pg_url: str, times: str, values: str, writers: int = 8) -> list[BaseException]:
    """Run the writers on run 1 (``times`` and ``values``: SQL over ``g``, the value's place
    in its statement, and ``:k``, the writer); the errors they met."""
    engine = create_engine(pg_url)
    errors: list[BaseException] = []
    insert = text(
        "INSERT INTO observation (run_id, code, time, value, unit, source, status, "
        f"recorded_at) SELECT 1, c, {times}, {values}, 'x', 'hl7', 'final', now() "
        "FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS u(c, g)"
    )

    def writer(k: int) -> None:
        rng = random.Random(k)
        try:
            for rep in range(5):
                conn = engine.connect()
                tx = conn.begin()
                order = [c for c in rng.sample(CODES, len(CODES)) for _ in range(rng.randint(1, 9))]
                conn.execute(insert, {"codes": order, "k": k})
                time.sleep(rng.random() / 50)  # open a while: the others' statements wait
                (tx.rollback if rep == 3 else tx.commit)()
                conn.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    return errors
