"""`python -m dminbox.fake`: serve the demo inbox on a loopback port until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import sys

from dminbox.fake.serve import serve
from dminbox.fake.server import FakeMastodon


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dminbox.fake",
        description="Serve a fake Mastodon instance holding the demo inbox on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free)")
    parser.add_argument(
        "--gotosocial", action="store_true", help="behave like GoToSocial instead of Mastodon"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the demo inbox")
    parser.add_argument(
        "--quiet", action="store_true", help="no new messages while serving (a still inbox)"
    )
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    flavour = "gotosocial" if args.gotosocial else "mastodon"
    fake = FakeMastodon.demo(flavour=flavour, seed=args.seed, live=not args.quiet)
    loopback = await serve(fake, port=args.port)
    try:
        print(f"Fake {flavour} instance: {loopback.url}")
        print(f"Access token:  {fake.token}")
        print(
            f"Try: curl -H 'Authorization: Bearer {fake.token}' "
            f"{loopback.url}/api/v1/conversations?limit=2"
        )
        if flavour == "mastodon":
            print(
                f"Stream: curl -N -H 'Authorization: Bearer {fake.token}' "
                f"{loopback.url}/api/v1/streaming/direct"
            )
        print(f"WebSocket: ws://{loopback.url.split('://', 1)[1]}/api/v1/streaming?stream=direct")
        if not args.quiet:
            print("New messages arrive every 20-40 s once a client has connected.")
        print("Press Ctrl-C to stop.", flush=True)
        await loopback.serve_forever()
    finally:
        await loopback.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        print("\nStopped.")
    except OSError as error:
        print(f"Cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
