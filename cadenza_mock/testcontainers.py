"""cadenza-mock as a throwaway container for a test, on testcontainers-python.

    from cadenza_mock.testcontainers import CadenzaMockContainer

    with CadenzaMockContainer("cadenza-mock:latest", scenario="multi-user") as mock:
        client = MyClient(mock.url, token=mock.tokens["alice@example.com"])
        mock.remote.add_fault({"match": {"path": "/api/v3/credential/list"}, "drop": True})

The container is the image built from the repository's Dockerfile; it is ready once its
health route answers. `remote` is the handle the pytest plugin's remote mode uses
(journal, faults, clock, reset, load). Needs the `testcontainers` extra
(`pip install 'cadenza-mock[testcontainers]'`) and a Docker API (Docker, or podman's
Docker-compatible socket through DOCKER_HOST): docs/container.md says what else.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cadenza_mock.contract.model import User
from cadenza_mock.contract.options import DEFAULT_PORT
from cadenza_mock.scenario import is_bundled_name, load_scenario
from cadenza_mock.scenario.sources import bundled_path
from cadenza_mock.testing.remote import RemoteMock

try:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError(
        "cadenza_mock.testcontainers needs testcontainers-python: "
        "pip install 'cadenza-mock[testcontainers]'"
    ) from exc

DEFAULT_IMAGE = "cadenza-mock:latest"
# Where the image reads scenario files from (its CADENZA_MOCK_SCENARIO_DIR).
SCENARIO_DIR = "/scenarios"
HEALTH_PATH = "/__admin/health"


class CadenzaMockContainer:
    """A cadenza-mock container serving `scenario`: a bundled scenario's name, or a local
    YAML file (its folder is mounted read-only at /scenarios, so its `extends` of files
    beside it work too).

    The image listens on 0.0.0.0, where the admin API stays off without a token: one is
    made up unless `admin_token` is given. `env` adds CADENZA_MOCK_* settings (any `serve`
    option). `container` is the testcontainers DockerContainer, for whatever else it
    offers (networks, volumes) before `start()`.
    """

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        scenario: str | Path = "default",
        admin_token: str | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
        **docker_kwargs: Any,
    ) -> None:
        self.image = image
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.startup_timeout = startup_timeout
        # (host folder, container folder) mounted read-only: a scenario file's folder.
        self.volumes: list[tuple[str, str]] = []
        self.env = {
            "CADENZA_MOCK_ADMIN_TOKEN": self.admin_token,
            "CADENZA_MOCK_SCENARIO": self._scenario_in_container(scenario),
            **(env or {}),
        }
        self._docker_kwargs = docker_kwargs
        self._container: Any = None
        self._remote: RemoteMock | None = None

    def _scenario_in_container(self, scenario: str | Path) -> str:
        """Checked here first (ScenarioError, with file:line), as the container would."""
        if isinstance(scenario, str) and is_bundled_name(scenario):
            bundled_path(scenario)  # a did-you-mean for a name that is not bundled
            return scenario
        path = Path(scenario).resolve()
        if not path.is_file():
            raise FileNotFoundError(
                f"scenario {str(scenario)!r} is neither a bundled scenario nor a file"
            )
        load_scenario(path)
        self.volumes.append((str(path.parent), SCENARIO_DIR))
        return f"{SCENARIO_DIR}/{path.name}"

    @property
    def container(self) -> Any:
        """The testcontainers DockerContainer, made on first use (it connects to the Docker
        API at once): change it before `start()` for what it offers (networks, volumes)."""
        if self._container is None:
            container = DockerContainer(self.image, **self._docker_kwargs)
            container.with_exposed_ports(DEFAULT_PORT)
            for name, value in self.env.items():
                container.with_env(name, value)
            for host, inside in self.volumes:
                container.with_volume_mapping(host, inside, "ro")
            # Health is open without the admin token; the image starts in about a second.
            container.waiting_for(
                HttpWaitStrategy(DEFAULT_PORT, HEALTH_PATH)
                .for_status_code(200)
                .with_startup_timeout(int(self.startup_timeout))
            )
            self._container = container
        return self._container

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start the container and wait until its health route answers 200; a container
        that never does is removed before the error is raised (none is left running)."""
        try:
            self.container.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop and remove the container (its state goes with it)."""
        self._remote = None
        if self._container is not None:
            self._container.stop()
            self._container = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- what tests use

    @property
    def url(self) -> str:
        """The mock's base URL as the test's host reaches it (the mapped port)."""
        host = self.container.get_container_host_ip()
        port = self.container.get_exposed_port(DEFAULT_PORT)
        return f"http://{host}:{port}"

    @property
    def ws_url(self) -> str:
        """Its WebSocket API's URL (Centrifugo protocol)."""
        return self.url.replace("http://", "ws://", 1) + "/connection/websocket"

    @property
    def remote(self) -> RemoteMock:
        """The handle the pytest plugin's remote mode uses: journal, faults, clock, reset,
        load, namespaces (`open_namespace()`), with this container's admin token."""
        if self._remote is None:
            self._remote = RemoteMock(self.url, admin_token=self.admin_token).start()
        return self._remote

    @property
    def users(self) -> list[User]:
        """The users of the scenario it serves now, with their tokens."""
        return self.remote.users

    @property
    def tokens(self) -> dict[str, str]:
        """Each user's first token, by e-mail address."""
        return {user.email: user.tokens[0] for user in self.users if user.tokens}

    def __repr__(self) -> str:
        return f"<CadenzaMockContainer {self.image!r}>"
