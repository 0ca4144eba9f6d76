"""Two replicas behind HAProxy, sharing a real PostgreSQL and a llama.cpp server, as `deploy/local.py`
starts them: sessions spread over the replicas, a WHIP resource reaches the replica holding its
media, answers come from the shared LLM, and after a replica is killed new people go to the other
and no finished session's record is lost."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import websockets
import yaml
from aiortc import RTCSessionDescription

from deploy.haproxy import Backend, render
from deploy.local import LocalCluster, free_port
from deploy.postgres import PostgresMissing
from realtime.config import Settings
from tests.test_http_api import whip_offer

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("HAProxy is not installed (scripts/test.sh installs Debian's haproxy)")
    layout = LocalCluster(replicas=2, port=free_port(), log_dir=tmp_path_factory.mktemp("cluster"))
    try:
        layout.start()
    except PostgresMissing:
        pytest.skip("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)")
    try:
        yield layout
    finally:
        layout.stop()


async def open_websocket(url: str) -> tuple[websockets.ClientConnection, str]:
    ws = await websockets.connect(url.replace("http", "ws", 1) + "/ws")
    hello = json.loads(await ws.recv())
    return ws, hello["session_id"]


async def ask(ws: websockets.ClientConnection, text: str, timeout: float = 90.0) -> str:
    """The whole text of the answer to `text`."""
    await ws.send(json.dumps({"type": "chat", "text": text}))
    parts: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            assert message["type"] != "error", message
            if message["type"] == "reply":
                parts.append(message["delta"])
                if message["done"]:
                    return "".join(parts)


async def record_of(http: aiohttp.ClientSession, url: str, session_id: str) -> dict:
    """The session's record once its end is written (the replica writes it behind the close)."""
    for _ in range(100):
        async with http.get(f"{url}/sessions/{session_id}") as resp:
            assert resp.status in (200, 404), await resp.text()
            record = await resp.json() if resp.status == 200 else None
        if record is not None and record["ended_at"] is not None:
            return record
        await asyncio.sleep(0.1)
    raise AssertionError(f"no finished record of {session_id}")


async def test_sessions_through_the_balancer_survive_a_replica_killed(cluster: LocalCluster) -> None:
    url = cluster.url
    async with aiohttp.ClientSession() as http:
        # Two people at once: one on each replica (least connections).
        first, first_id = await open_websocket(url)
        second, second_id = await open_websocket(url)
        assert {first_id.split("-")[0], second_id.split("-")[0]} == {"r1", "r2"}

        # A question neither replica can answer from the facts goes to the shared LLM server.
        answer = await ask(first, "In one short sentence: why do squats help runners?")
        assert len(answer.split()) >= 3
        async with http.get(f"{url}/health") as resp:
            assert (await resp.json())["models"]["llm"]["backend"] == "openai-compatible"

        # WHIP publishers: the media goes to the replica that answered; DELETE through the
        # balancer reaches that replica (a wrong one would answer 404).
        for _ in range(2):
            pc, sdp = await whip_offer()
            async with http.post(f"{url}/whip", data=sdp, headers={"Content-Type": "application/sdp"}) as resp:
                assert resp.status == 201, await resp.text()
                location, answer_sdp = resp.headers["Location"], await resp.text()
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
            async with asyncio.timeout(15):
                while pc.connectionState != "connected":
                    await asyncio.sleep(0.05)
            async with http.delete(f"{url}{location}") as resp:
                assert resp.status == 200, f"{location}: {resp.status}"
            async with http.delete(f"{url}{location}") as resp:
                assert resp.status == 404
            await pc.close()

        await first.close()
        await second.close()
        finished = {sid: await record_of(http, url, sid) for sid in (first_id, second_id)}
        assert [t["role"] for t in finished[first_id]["turns"]][:2] == ["user", "assistant"]

        # A machine dies: the balancer stops sending people there, and its finished records stay.
        on_r1 = first_id if first_id.startswith("r1-") else second_id
        cluster.kill("r1")
        for _ in range(4):
            ws, session_id = await open_websocket(url)
            assert session_id.startswith("r2-")
            await ws.close()
        record = await record_of(http, url, on_r1)
        assert record["id"] == on_r1 and record["end_reason"]
        async with http.get(f"{url}/ready") as resp:
            assert resp.status == 200 and (await resp.json())["replica"] == "r2"


def test_the_balancer_config_pins_whip_resources_and_checks_room() -> None:
    config = render("127.0.0.1:8080", [Backend("r1", "10.0.0.1", 8081), Backend("r2", "10.0.0.2", 8081)])
    assert "use_backend pin_r1 if { path_beg /whip/r1- }" in config
    assert "option httpchk GET /ready" in config
    assert "server r2 10.0.0.2:8081 check" in config
    with pytest.raises(ValueError):
        Backend("R-1", "h", 1)
    with pytest.raises(ValueError):
        render("127.0.0.1:8080", [Backend("r1", "a", 1), Backend("r1", "b", 2)])


K8S = Path(__file__).resolve().parent.parent / "deploy" / "k8s"


def k8s_objects() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_the_kubernetes_manifests_agree_with_the_server_and_each_other() -> None:
    objects = k8s_objects()
    by_kind_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert {o["metadata"].get("namespace", "coach") for o in objects} == {"coach"}
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
    for service in (o for o in objects if o["kind"] == "Service"):  # every service selects a workload's pods
        assert any(w["spec"]["template"]["metadata"]["labels"].items() >= service["spec"]["selector"].items()
                   for w in workloads), service["metadata"]["name"]

    coach = by_kind_name[("StatefulSet", "coach")]
    container = coach["spec"]["template"]["spec"]["containers"][0]
    settings = Settings.model_fields
    for env in container["env"]:  # each COACH_ variable is a setting the server reads
        if env["name"].startswith("COACH_"):
            top = env["name"][len("COACH_"):].split("__")[0].lower()
            assert top in settings, env["name"]
        if "secretKeyRef" in env.get("valueFrom", {}):
            ref = env["valueFrom"]["secretKeyRef"]
            assert ref["key"] in by_kind_name[("Secret", ref["name"])]["stringData"]
    remote = next(e["value"] for e in container["env"] if e["name"] == "COACH_MODELS__LLM_REMOTE")
    vllm = by_kind_name[("Deployment", "llm")]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert json.loads(remote)["model"] == vllm[vllm.index("--served-model-name") + 1]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"

    # The balancer's ConfigMap is deploy/haproxy.py's config for every replica of the StatefulSet.
    config = by_kind_name[("ConfigMap", "haproxy")]["data"]["haproxy.cfg"]
    replicas = [Backend(f"coach{i}", f"coach-{i}.coach.coach.svc.cluster.local", 8080)
                for i in range(coach["spec"]["replicas"])]
    assert config == render(":8080", replicas, dns=True)


@pytest.mark.parametrize("dns", [False, True])
def test_haproxy_accepts_the_rendered_config(dns: bool, tmp_path: Path) -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        pytest.skip("HAProxy is not installed (scripts/test.sh installs Debian's haproxy)")
    config = tmp_path / "haproxy.cfg"
    config.write_text(render("127.0.0.1:8080", [Backend("r1", "127.0.0.1", 1), Backend("r2", "localhost", 2)], dns=dns))
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
