"""``python -m tests.fakewechat --port 8199``: the developer sandbox."""

from __future__ import annotations

import argparse
import signal
import threading

from tests.fakewechat.server import FakeWeChat


def main() -> None:
    parser = argparse.ArgumentParser(description="Local WeChat sandbox")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    fake = FakeWeChat(host=args.host, port=args.port, log=True)
    fake.start()
    print(f"WeChat sandbox listening on {fake.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
