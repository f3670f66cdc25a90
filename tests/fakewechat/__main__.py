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
    parser.add_argument(
        "--push-url", default="", help="the product's /wechat/callback, for image-check verdicts"
    )
    parser.add_argument("--push-token", default="sandbox-token", help="WECHAT_TOKEN, to sign pushes with")
    args = parser.parse_args()
    fake = FakeWeChat(host=args.host, port=args.port, log=True)
    fake.start()
    if args.push_url:
        fake.configure_push(args.push_url, args.push_token, delay=1.0)
    print(f"WeChat sandbox listening on {fake.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
