"""Notification delivery: throughput of one worker and delay from filing to
first delivery, against the fake WeChat on loopback.

    .venv/bin/python bench/notify.py [--notifications 2000] [--cases 40] [--pg URL] [--no-redis]

The worker learns of new work from Redis pub/sub (REDIS_URL; on PostgreSQL
without Redis, LISTEN/NOTIFY): the web side publishes after each commit that
wrote outbox rows. Its timer (OUTBOX_INTERVAL_SECONDS, 5 s) is only the
fallback; it never polls in a busy loop. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.models import Community, Notification, User  # noqa: E402
from app.services import Services  # noqa: E402
from app.settings import Settings  # noqa: E402
from handlers.accounts import bind_staff, invite_staff, set_wecom_id  # noqa: E402
from handlers.cases.submit import NewCase, submit_case  # noqa: E402
from handlers.notifications.notify import enqueue  # noqa: E402
from handlers.seed import seed_reference  # noqa: E402
from tests.fakewechat import FakeWeChat  # noqa: E402


def _migrate(url: str) -> None:
    from app.migrate import upgrade

    upgrade(url)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--pg", default=None)
    parser.add_argument(
        "--no-redis", action="store_true", help="learn of work from PostgreSQL NOTIFY or the timer"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    admin = None
    if args.pg:
        base = make_url(args.pg)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "bench_notify"'))
            conn.execute(text('CREATE DATABASE "bench_notify"'))
        url = base.set(database="bench_notify").render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / 'notify.db'}"
    _migrate(url)
    fake = FakeWeChat()
    fake.start()
    redis_url = "" if args.no_redis else "redis://127.0.0.1:6379/14"
    env = {
        "DATABASE_URL": url,
        "WECHAT_API_BASE": fake.base_url,
        "WECOM_API_BASE": fake.base_url,
        "WECOM_CORP_ID": "ww-bench",
        "WECOM_SECRET": "bench",
        "WECOM_AGENT_ID": "1000002",
        "REDIS_URL": redis_url,
        "PHOTO_DIR": str(tmp / "photos"),
        "SECRET_KEY": "bench",
        # The worker below is started through create_app: a development run.
        "APP_ENV": "development",
    }
    services = Services(Settings.from_env(env))
    ctx = services.context()
    seed_reference(ctx)
    # Five staff of the department that handles 遛狗不拴绳, reached on WeCom.
    staff_ids = []
    for i in range(5):
        with services.db.uow() as uow:
            user = User(openid=f"o-bench-staff-{i}", created_at=services.clock.now())
            uow.session.add(user)
            uow.commit()
            uid = user.id
        code, _ = invite_staff(ctx, "综合执法局", "handler")
        bind_staff(ctx, uid, code)
        set_wecom_id(ctx, uid, f"staff{i}")
        staff_ids.append(uid)
    with services.db.uow() as uow:
        # Residents may file 20 cases a day each: enough of them for the run.
        residents = [
            User(openid=f"o-bench-resident-{i}", created_at=services.clock.now())
            for i in range(args.cases // 10 + 1)
        ]
        uow.session.add_all(residents)
        uow.commit()
        resident_ids = [r.id for r in residents]
        community_id = uow.session.scalar(select(Community.id).order_by(Community.id))

    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=dict(os.environ) | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2.0)  # the worker starts and subscribes
        # Throughput: a burst of notifications written at once.
        fake.reset()
        with services.db.uow() as uow:
            users = list(uow.session.scalars(select(User).where(User.id.in_(staff_ids))))
            for i in range(args.notifications // len(users)):
                enqueue(
                    uow.session,
                    services.clock.now(),
                    "new_case",
                    None,
                    users,
                    {"number": f"B{i}", "note": str(i)},
                )
            uow.commit()
        total = (args.notifications // len(staff_ids)) * len(staff_ids)
        started = time.perf_counter()
        ctx.wake_outbox()
        while len(fake.sent) < total and time.perf_counter() - started < 300:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        per_second = len(fake.sent) / elapsed
        print(
            f"throughput: {len(fake.sent)} notifications in {elapsed:.2f} s = {per_second:.0f}/s (one worker)"
        )

        # Delay: cases filed one by one; when does the first message of each arrive?
        fake.reset()
        filed: dict[str, float] = {}
        for i in range(args.cases):
            case, _ = submit_case(
                ctx,
                resident_ids[i // 10],
                NewCase(
                    category="dog_unleashed",
                    community_id=community_id,
                    description=f"基准测试第{i}件：遛狗不拴绳",
                ),
                f"bench-{i}",
            )
            filed[case.number] = time.time()
            time.sleep(0.25)
        deadline = time.time() + 30
        while time.time() < deadline:
            seen = {m["body"]["textcard"]["title"].split("】")[-1] for m in fake.sent}
            if set(filed) <= seen:
                break
            time.sleep(0.05)
        first: dict[str, float] = {}
        for message in fake.sent:
            number = message["body"]["textcard"]["title"].split("】")[-1]
            first.setdefault(number, message["at"])
        delays = [first[n] - t for n, t in filed.items() if n in first]
        median, p99 = statistics.median(delays), _percentile(delays, 0.99)
        print(
            f"first delivery after filing: median {median:.3f} s, p99 {p99:.3f} s ({len(delays)}/{len(filed)} cases)"
        )
        with services.db.uow() as uow:
            pending = uow.session.scalar(
                select(func.count(Notification.id)).where(Notification.status == "pending")
            )
        wake = "redis pub/sub" if redis_url else ("postgres LISTEN/NOTIFY" if args.pg else "timer")
        print(f"the worker learns of new work by {wake}; pending left: {pending}")
        print(
            json.dumps(
                {
                    "per_second": round(per_second, 1),
                    "first_delivery_median_s": round(median, 3),
                    "first_delivery_p99_s": round(p99, 3),
                    "notifications": total,
                    "cases": len(delays),
                    "database": "postgresql" if args.pg else "sqlite",
                    "wake": wake,
                }
            )
        )
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        fake.stop()
        services.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "bench_notify" WITH (FORCE)'))


if __name__ == "__main__":
    main()
