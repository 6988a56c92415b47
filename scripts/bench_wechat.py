#!/usr/bin/env python3
"""Benchmark /wechat: gunicorn (2 workers) on 127.0.0.1, N clients posting signed text messages.

    .venv/bin/python scripts/bench_wechat.py [--seconds 20] [--clients 32] [--workers 2]

Uses the same throw-away server as the other HTTP benchmarks (`benchlib.Server`: a fresh SQLite
database migrated, the real bank imported) with WECHAT_TOKEN set, runs the clients for a fixed
time (each message a fresh nonce and MsgId, so every one runs the chatbot) and prints
throughput, p50/p99/max latency and the non-2xx count.
Floor (issue #6): p99 <= 500 ms, max < 4 s, zero non-2xx.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchlib import Server, drive, timed  # noqa: E402

TOKEN = "bench-token"
MESSAGES = [
    "有人自称公安局说我涉嫌洗钱，要我把钱转到安全账户",
    "网上兼职刷单，先垫付三百元就返佣金，靠谱吗",
    "客服说我的快递丢了要理赔，让我共享屏幕",
    "你好",
    "帮助",
    "儿子微信说换了新号，让我先转两万块给他同学",
    "投资群里老师带我们炒币，稳赚不赔",
    "今天天气怎么样",
]


def signed_path(nonce: str) -> str:
    """/wechat with a valid signature for ``nonce`` and the current time."""
    timestamp = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    counter = itertools.count(1)

    def step(conn, record):
        n = next(counter)
        body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                f"<FromUserName><![CDATA[oBenchUser{n % 500:04d}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{MESSAGES[n % len(MESSAGES)]}]]></Content>"
                f"<MsgId>{10**12 + n}</MsgId></xml>")
        timed(conn, record, "POST", signed_path(f"b{n}"), raw=body.encode(),
              headers={"Content-Type": "text/xml"})

    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": "wxbench"}
    with Server(workers=args.workers, extra_env=env) as server:
        drive("warm-up", server, 4, 2, step)
        result = drive("wechat", server, args.clients, args.seconds, step)
    worst = max(result.latencies, default=0.0)
    print(f"clients={args.clients} workers={args.workers} seconds={result.seconds:.1f}")
    print(result.line())
    ok = result.pct(0.99) <= 500 and worst < 4 and result.non_2xx == 0
    print(f"floor (p99 <= 500 ms, max < 4 s, zero non-2xx): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
