"""HAProxy's configuration for replicas of the server (HAProxy 2.6, Debian 12's package).

- New sessions (`/offer`, `POST /whip`, `/ws`) and everything else go to the replicas with room:
  each is checked on `GET /ready`, which answers 503 when it is full or still loading models, so a
  full replica keeps the people it has and gets no new ones. A request that meets a dead replica
  (refused connection, empty answer) or a 503 is retried once on another (`option redispatch`).
- A WHIP resource (`/whip/<replica>-<id>`, `DELETE` or `PATCH`) goes to the replica named in it,
  whatever its health: only that process holds the session's media. Session records
  (`/sessions/{id}`) are in the shared database and any replica answers them.
- Websockets stay on the replica that accepted them (`timeout tunnel`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z0-9]{1,16}$")


@dataclass(frozen=True)
class Backend:
    """One replica: its name (the `COACH_REPLICA` it runs with) and address."""

    name: str
    host: str
    port: int

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"replica name {self.name!r}: 1-16 lower-case letters and digits")


def render(bind: str, replicas: list[Backend], check_interval_ms: int = 1000, dns: bool = False,
           stats_socket: str | None = None) -> str:
    """The whole haproxy.cfg for `replicas` behind `bind` ("host:port").

    `dns`: replica hosts are DNS names to follow as they change (Kubernetes pods behind a
    headless service), resolved with the machine's resolv.conf; a name not resolvable yet leaves
    its replica down instead of stopping HAProxy. `stats_socket`: a Unix socket for HAProxy's
    runtime API (`show stat`: which replicas it sees up)."""
    if not replicas or len({r.name for r in replicas}) != len(replicas):
        raise ValueError("replicas need distinct names")
    follow = " resolvers system init-addr last,libc,none" if dns else ""
    pins = "\n".join(
        f"    use_backend pin_{r.name} if {{ path_beg /whip/{r.name}- }}" for r in replicas)
    servers = "\n".join(f"    server {r.name} {r.host}:{r.port} check{follow}" for r in replicas)
    pinned = "\n\n".join(
        f"backend pin_{r.name}\n    server {r.name} {r.host}:{r.port}{follow}" for r in replicas)
    resolvers = "\nresolvers system\n    parse-resolv-conf\n    hold valid 10s\n" if dns else ""
    stats = f"\n    stats socket {stats_socket} mode 600" if stats_socket else ""
    return f"""# Written by deploy/haproxy.py: replicas of the coaching server.
global
    maxconn 4096{stats}
{resolvers}
defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 2h
    timeout http-request 10s
    retries 1
    option redispatch 1
    retry-on conn-failure empty-response 503

frontend coach
    bind {bind}
{pins}
    default_backend replicas

backend replicas
    balance leastconn
    option http-buffer-request
    option httpchk GET /ready
    http-check expect status 200
    default-server inter {check_interval_ms}ms fall 2 rise 1
{servers}

{pinned}
"""


def servers_up(stats_socket: str) -> dict[str, bool]:
    """Replica name -> whether HAProxy sends it new sessions, read from its runtime API."""
    import csv
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        conn.connect(stats_socket)
        conn.sendall(b"show stat\n")
        raw = b"".join(iter(lambda: conn.recv(65536), b""))
    rows = csv.DictReader(raw.decode().lstrip("# ").splitlines())
    return {row["svname"]: row["status"].startswith("UP") for row in rows if row["pxname"] == "replicas"
            and row["svname"] not in ("FRONTEND", "BACKEND")}


def main() -> None:
    """Print a haproxy.cfg: `python -m deploy.haproxy --bind :8080 --dns r1=coach-0.coach:8080 ...`."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--bind", default="127.0.0.1:8080")
    parser.add_argument("--dns", action="store_true", help="Follow the replicas' DNS names (Kubernetes).")
    parser.add_argument("replicas", nargs="+", metavar="NAME=HOST:PORT")
    args = parser.parse_args()
    backends = []
    for spec in args.replicas:
        name, _, address = spec.partition("=")
        host, _, port = address.rpartition(":")
        backends.append(Backend(name, host, int(port)))
    print(render(args.bind, backends, dns=args.dns), end="")


if __name__ == "__main__":
    main()
