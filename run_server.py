"""Entry point: `python run_server.py [--profile embedded|full] [--host H] [--port P] [--config F]`.

Every option is also a setting (environment `COACH_*`, or the config file); flags win.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from models.paths import pin_caches


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Real-time AI coaching server")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default 8080)")
    parser.add_argument("--profile", choices=["embedded", "full"], help="model profile (default embedded)")
    parser.add_argument("--config", type=Path, help="TOML or YAML settings file")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING ... (default INFO)")
    parser.add_argument("--token", help="require this bearer token on signaling, websocket and records")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from realtime.config import load_settings

    try:
        settings = load_settings(args.config, host=args.host, port=args.port, profile=args.profile,
                                 log_level=args.log_level, token=args.token)
    except (FileNotFoundError, ValueError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    pin_caches(offline=settings.offline)  # before the server's imports read the Hub's settings
    from realtime.server import serve

    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        logging.getLogger("run_server").error("cannot serve on %s:%s: %s", settings.host, settings.port, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
