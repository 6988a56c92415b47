"""Print where to open the app: on this computer, and from a phone on the same network.

Called by `make run` just before the server starts. Reads HOST, PORT and PUBLIC_BASE_URL.
"""

from __future__ import annotations

import os
import socket


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (no traffic is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({info[4][0] for info in infos if not info[4][0].startswith("127.")})


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    base = os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    print(f"quizbot: http://127.0.0.1:{port}/quiz  (居民答题)  ·  /check (这是诈骗吗？)  ·  /api/v1/docs")
    print(f"  household QR codes point at {base}/q/<invite_code>  (PUBLIC_BASE_URL)")
    addresses = lan_addresses()
    if host in ("0.0.0.0", "::") and addresses:
        for address in addresses:
            print(f"  phones on the same network: http://{address}:{port}/quiz")
    elif addresses:
        print(f"  for phones on the same network: make run HOST=0.0.0.0 "
              f"PUBLIC_BASE_URL=http://{addresses[0]}:{port}  then open http://{addresses[0]}:{port}/quiz")


if __name__ == "__main__":
    main()
