"""Shared fixtures: a real server in-process on a free port, with its own data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from models.health import HealthRegistry
from models.paths import pin_caches
from realtime.config import Settings, load_settings
from realtime.http_api import CTX, SESSIONS
from realtime.model_hub import ModelHub
from realtime.session import Session
from realtime.server import create_app, start_app

pin_caches()

PARTS = ("offline", "rest")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--part", choices=PARTS, default=None,
        help="only the tests marked offline (computation on recorded or generated data: no server, clock or "
             "shared file, so two can run at once), or only the rest. scripts/test.sh runs the first part on "
             "both cores (pytest-xdist), then the rest one at a time, where live media keeps to real time.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    part = config.getoption("--part")
    if part is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (keep if (item.get_closest_marker("offline") is not None) == (part == "offline") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pose_weights() -> Path:
    """The models directory with the embedded pose models set up (skips where they cannot be)."""
    from models.paths import weights_dir
    from models.pose import PoseModelUnavailable, prepare_embedded

    try:
        prepare_embedded(weights_dir())
    except PoseModelUnavailable as error:
        pytest.skip(str(error))
    return weights_dir()


class RunningServer:
    """A live server on 127.0.0.1 and the app behind it (for inspecting sessions and metrics)."""

    def __init__(self, app: web.Application, runner: web.AppRunner, port: int) -> None:
        self.app = app
        self.runner = runner
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    @property
    def sessions(self) -> dict[str, Session]:
        return self.app[SESSIONS].sessions

    @property
    def ctx(self):  # noqa: ANN201 - ServerContext
        return self.app[CTX]


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("load_models", False)
        return load_settings(None, **overrides)

    return make


@pytest.fixture
async def start_server(make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[..., object]]:
    runners: list[web.AppRunner] = []

    async def start(hub: ModelHub | None = None, **overrides: object) -> RunningServer:
        app = create_app(make_settings(**overrides), hub=hub)
        runner, port = await start_app(app)
        runners.append(runner)
        return RunningServer(app, runner, port)

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def server(start_server: Callable[..., object]) -> RunningServer:
    return await start_server()  # type: ignore[misc]


@pytest.fixture(scope="session")
def loaded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelHub]:
    """Every embedded model, loaded once for the whole test run (about 10 s) and shared by servers."""
    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("hub"))
    hub = ModelHub(settings, HealthRegistry())
    hub.start_loading()
    hub.wait_loaded()
    missing = {f: s.reason for f, s in hub.health.snapshot().items() if s.state.value != "ready"}
    assert not missing, f"embedded models missing (run scripts/setup.sh): {missing}"
    yield hub
    hub.close()
