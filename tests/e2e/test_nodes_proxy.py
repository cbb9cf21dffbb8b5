"""Two `papercite serve` nodes over one PostgreSQL store behind docs/deploy/nginx-nodes.conf and
docs/deploy/Caddyfile-nodes, each run as shipped (only its placeholders replaced): the CLI, the
language server and Slack's signed posts go through the proxy while one node is killed with SIGKILL
and while PostgreSQL stops and starts."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port, run_cli
from tests.e2e.conftest import complete, open_document, position_of
from tests.e2e.fake_slack import FakeSlack, command_body, sign
from tests.e2e.test_reverse_proxy import (
    DEPLOY,
    HOST_IN_DOCS,
    SENTENCE,
    Certificates,
    Proxy,
    caddy_options,
    cli,
    launch_proxy,
    make_certificates,
    replaced,
)
from tests.e2e.test_slack import FORM, SECRET
from tests.e2e.test_team_server import editor
from tests.postgres import PASSWORD, Cluster
from tests.team_server import TeamServer

UPSTREAMS_IN_DOCS = ("10.0.0.11:8765", "10.0.0.12:8765")


def nginx_nodes_block(port: int, upstreams: list[int], certs: Certificates) -> str:
    where = "docs/deploy/nginx-nodes.conf"
    text = (DEPLOY / "nginx-nodes.conf").read_text()
    for documented, node in zip(UPSTREAMS_IN_DOCS, upstreams, strict=True):
        text = replaced(text, f"server {documented} ", f"server 127.0.0.1:{node} ", where)
    text = replaced(text, "listen 443 ", f"listen 127.0.0.1:{port} ", where)
    text = replaced(text, f"server_name {HOST_IN_DOCS};", "server_name localhost;", where)
    text = replaced(
        text, f"/etc/letsencrypt/live/{HOST_IN_DOCS}/fullchain.pem", str(certs.certificate), where
    )
    return replaced(text, f"/etc/letsencrypt/live/{HOST_IN_DOCS}/privkey.pem", str(certs.key), where)


def caddy_nodes_file(port: int, upstreams: list[int], certs: Certificates, folder: Path) -> str:
    where = "docs/deploy/Caddyfile-nodes"
    text = (DEPLOY / "Caddyfile-nodes").read_text()
    text = replaced(text, f"\n{HOST_IN_DOCS} {{", f"\nlocalhost:{port} {{", where)
    nodes = " ".join(f"127.0.0.1:{node}" for node in upstreams)
    text = replaced(text, f"reverse_proxy {' '.join(UPSTREAMS_IN_DOCS)} ", f"reverse_proxy {nodes} ", where)
    text = replaced(
        text,
        "# tls /etc/papercite/cert.pem /etc/papercite/key.pem",
        f"tls {certs.certificate} {certs.key}",
        where,
    )
    return caddy_options(folder) + text


def start_nodes_proxy(name: str, folder: Path, upstreams: list[int], certs: Certificates) -> Proxy:
    folder.mkdir()
    port = free_port()
    if name == "nginx":
        config = nginx_nodes_block(port, upstreams, certs)
    else:
        config = caddy_nodes_file(port, upstreams, certs, folder)
    return launch_proxy(name, folder, port, config, certs)


@dataclass
class Site:
    proxy: Proxy
    nodes: list[TeamServer]
    token: str


@pytest.fixture(params=["nginx", "caddy"])
def site(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, slack: FakeSlack
) -> Iterator[Site]:
    env = {
        "PAPERCITE_STORE": postgres_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
    }
    made = run_cli(
        tmp_path / "admin", "token", "create", "ops", "--write", variables={"PAPERCITE_STORE": postgres_url}
    )
    token = made.stdout.strip().splitlines()[-1]
    nodes: list[TeamServer] = []
    try:
        for name in ("node-a", "node-b"):
            (tmp_path / name).mkdir()
            nodes.append(TeamServer(tmp_path / name / "home", env=env).start(timeout=120))
        certificates = make_certificates(tmp_path / "tls")
        proxy = start_nodes_proxy(
            request.param, tmp_path / request.param, [n.port for n in nodes], certificates
        )
        try:
            yield Site(proxy, nodes, token)
        finally:
            proxy.stop()
    finally:
        for node in nodes:
            node.stop()


def searched(site: Site, query: str) -> list[str]:
    done = cli(site.proxy, site.token, "search", query, "-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    return [hit["key"] for hit in json.loads(done.stdout)]


async def slack_asks(site: Site, slack: FakeSlack, text: str, answer_holds: str) -> int:
    """The status of `/paper TEXT` through the proxy; when 200, its answer must hold `answer_holds`."""
    slack.reset()
    body = command_body(text, slack.response_url())
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{site.proxy.url}/slack/events",
            data=body,
            headers=FORM | sign(SECRET, body),
            ssl=site.proxy.tls(),
        ) as answer,
    ):
        status = answer.status
    if status == 200:
        reply = (await slack.wait_for("response_url"))[0].payload
        assert answer_holds in json.dumps(reply)
    return status


async def all_faces_answer(site: Site, slack: FakeSlack, tmp_path: Path, *, store_down: bool = False) -> None:
    assert searched(site, "hierarchical speculative decoding sparse KV cache")[0] == "triforce"
    async with editor(
        site.proxy.url, site.token, tmp_path, PAPERCITE_CA_FILE=str(site.proxy.certificates.authority)
    ) as client:
        text, position = position_of("\\section{Intro}\n" + SENTENCE)
        uri = (tmp_path / "a.tex").as_uri()
        open_document(client, uri, text, "latex")
        items = await complete(client, uri, position)
        assert [i.label for i in items][:1] == ["triforce"]
    # (stats count the store's papers: while it is away, a search shows the bot answering)
    if store_down:
        assert await slack_asks(site, slack, "speculative decoding sparse KV cache", "triforce") == 200
    else:
        assert await slack_asks(site, slack, "stats", "papers in the index") == 200


async def test_the_faces_answer_through_the_proxy_while_a_node_dies_and_the_database_restarts(
    site: Site, slack: FakeSlack, postgres_cluster: Cluster, tmp_path: Path
) -> None:
    await all_faces_answer(site, slack, tmp_path / "both")
    # Papers written through the proxy (to whichever node) are found through it at once after.
    bib = tmp_path / "new.bib"
    bib.write_text(
        "@article{proxied2026,\n title={Proxied Quorum Replication Across Nodes},\n year={2026}\n}\n"
    )
    ingested = cli(site.proxy, site.token, "ingest", str(bib))
    assert ingested.returncode == 0, ingested.stderr
    deadline = time.monotonic() + 5
    while "proxied2026" not in searched(site, "proxied quorum replication across nodes"):
        assert time.monotonic() < deadline

    # PostgreSQL stopped: writes are refused with a 503 naming the database, never its password.
    postgres_cluster.stop()
    try:
        refused = cli(site.proxy, site.token, "remove", "proxied2026")
        assert refused.returncode == 1
        assert f"127.0.0.1:{postgres_cluster.port}" in refused.stderr, site.proxy.output()[-3000:]
        assert PASSWORD not in refused.stderr
        # Searches, the editor and the bot go on answering from the nodes' indexes.
        await all_faces_answer(site, slack, tmp_path / "away", store_down=True)
    finally:
        postgres_cluster.start()
    # Back: the nodes reconnect by themselves.
    deadline = time.monotonic() + 20
    while cli(site.proxy, site.token, "stats", "--json").returncode != 0:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    await all_faces_answer(site, slack, tmp_path / "again")

    # One node killed with SIGKILL: every face still answers, through the other.
    site.nodes[0].stop(signal.SIGKILL)
    await all_faces_answer(site, slack, tmp_path / "one")
    # Restarted, it joins behind the proxy with every paper.
    site.nodes[0].start(timeout=120)
    stats = json.loads(
        run_cli(site.nodes[0].url, "stats", "--json", variables={"PAPERCITE_TOKEN": site.token}).stdout
    )
    assert stats["papers"] == 180 and stats["indexed"] == 180
