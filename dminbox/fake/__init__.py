"""A fake Mastodon (or GoToSocial) server for `dminbox --demo`, the tests and a loopback port.

    server = FakeMastodon()                     # or FakeMastodon.demo() for the sample inbox
    async with httpx.AsyncClient(transport=server.transport(),
                                 base_url=server.base_url) as client: ...
    server.faults.add(Fault(path="/api/v1/conversations", status=503))

`python -m dminbox.fake --port 8080` serves the demo inbox on 127.0.0.1.
"""

from dminbox.fake.app import RecordedRequest
from dminbox.fake.faults import Fault, FaultList
from dminbox.fake.serve import LoopbackServer, serve
from dminbox.fake.server import DEFAULT_BASE_URL, FakeMastodon

__all__ = [
    "DEFAULT_BASE_URL",
    "FakeMastodon",
    "Fault",
    "FaultList",
    "LoopbackServer",
    "RecordedRequest",
    "serve",
]
