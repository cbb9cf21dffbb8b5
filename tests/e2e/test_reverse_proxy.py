"""`papercite serve` behind the reverse proxies of docs/deploy/, run as shipped: nginx and Caddy
terminate TLS on loopback (a certificate authority made here with openssl) in front of a real
server, and the real clients — the CLI, the language server, Slack's signed posts, curl over
HTTP/2 — go through them with that authority trusted through PAPERCITE_CA_FILE.

Each configuration is the file the documentation shows, with only its placeholders replaced: the
server's name, the certificate, the ports (and nginx's upload limit, scaled to the test server's).
A short main nginx.conf around the server block, and a global-options block before the Caddyfile,
keep everything (pid, logs, temporary files, Caddy's storage) inside the test's folder, so no root
is needed. nginx (Debian `nginx-light`), Caddy (`caddy`), openssl and curl are installed by ./run-tests;
without them these tests fail rather than skip (see tests/system.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil
import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from api.limits import DEFAULT_MAX_BODY_MB
from tests.conftest import REPO, free_port
from tests.e2e.conftest import PHOTONIC, complete, open_document, position_of
from tests.e2e.fake_slack import FakeSlack, command_body, sign
from tests.e2e.test_slack import FORM, SECRET
from tests.e2e.test_team_server import editor
from tests.system import program
from tests.team_server import TeamServer, make_token

DEPLOY = REPO / "docs" / "deploy"
HOST_IN_DOCS = "papers.example.org"
UPSTREAM_IN_DOCS = "127.0.0.1:8765"
# The test server's upload limit (--max-body-mb): small, so that a body one byte over it is quick.
MAX_BODY_MB = 1
LIMIT = MAX_BODY_MB * 1024 * 1024
# Per token: 20 a second, bursts of 40; the flood below sends more than that at once.
RATE = 20
SENTENCE = "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"


def tool(name: str, package: str) -> str:
    # nginx is in /usr/sbin, off some PATHs.
    return program(name, package, also_in="/usr/sbin:/usr/local/sbin")


def replaced(text: str, old: str, new: str, where: str) -> str:
    """`old` replaced by `new`, once: a placeholder gone from the documented file fails here, by name."""
    assert text.count(old) == 1, f"{where} should hold {old!r} once"
    return text.replace(old, new)


# --- a certificate authority and a certificate for localhost -----------------------------------


@dataclass(frozen=True)
class Certificates:
    authority: Path  # what clients trust (PAPERCITE_CA_FILE)
    certificate: Path  # the proxy's, for localhost and 127.0.0.1, signed by the authority
    key: Path


def make_certificates(folder: Path) -> Certificates:
    openssl = tool("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    cert, key, request = folder / "cert.pem", folder / "key.pem", folder / "cert.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=papercite test authority",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", *ec, "-keyout", str(key), "-out", str(request), "-subj", "/CN=localhost")
    extensions = folder / "server.ext"
    extensions.write_text(
        "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
    run("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert))  # fmt: skip
    return Certificates(ca, cert, key)


# --- the proxies, from the documented files ----------------------------------------------------


def nginx_server_block(port: int, upstream: int, certs: Certificates) -> str:
    where = "docs/deploy/nginx.conf"
    text = (DEPLOY / "nginx.conf").read_text()
    text = replaced(text, f"server {UPSTREAM_IN_DOCS};", f"server 127.0.0.1:{upstream};", where)
    text = replaced(text, "listen 443 ", f"listen 127.0.0.1:{port} ", where)
    text = replaced(text, f"server_name {HOST_IN_DOCS};", "server_name localhost;", where)
    text = replaced(
        text, f"/etc/letsencrypt/live/{HOST_IN_DOCS}/fullchain.pem", str(certs.certificate), where
    )
    text = replaced(text, f"/etc/letsencrypt/live/{HOST_IN_DOCS}/privkey.pem", str(certs.key), where)
    return replaced(
        text, f"client_max_body_size {DEFAULT_MAX_BODY_MB}m;", f"client_max_body_size {MAX_BODY_MB}m;", where
    )


def nginx_main(folder: Path) -> str:
    """What a distribution's /etc/nginx/nginx.conf gives the server block, kept in `folder`."""
    # As root, nginx's workers would run as nobody, who cannot enter a private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 2;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}    include {folder / 'papercite.conf'};\n}}\n"
    )


def caddyfile(port: int, upstream: int, certs: Certificates, folder: Path) -> str:
    where = "docs/deploy/Caddyfile"
    text = (DEPLOY / "Caddyfile").read_text()
    text = replaced(text, f"\n{HOST_IN_DOCS} {{", f"\nlocalhost:{port} {{", where)
    text = replaced(text, f"reverse_proxy {UPSTREAM_IN_DOCS}", f"reverse_proxy 127.0.0.1:{upstream}", where)
    text = re.sub(r"# (tls) \S+ \S+", f"\\1 {certs.certificate} {certs.key}", text)
    assert f"tls {certs.certificate}" in text, f"{where} should hold a commented-out tls line"
    return caddy_options(folder) + text


def caddy_options(folder: Path) -> str:
    """Caddy's own state in the test's folder, on loopback only, no admin port, no redirect
    listener on port 80, and never its own authority in the system's trust store."""
    return (
        f"{{\n\tadmin off\n\tstorage file_system {folder / 'storage'}\n\tdefault_bind 127.0.0.1\n"
        "\tauto_https disable_redirects\n\tskip_install_trust\n}\n\n"
    )


def caddy_environment(folder: Path) -> dict[str, str]:
    return {
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
    }


@dataclass
class Proxy:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    certificates: Certificates

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificates.authority))

    def wait_until_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2, context=self.tls()) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer: {self.output()}")

    def output(self) -> str:
        folder = self.log.parent
        return "\n".join(
            p.read_text(errors="replace") for p in (self.log, folder / "error.log") if p.exists()
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_proxy(name: str, folder: Path, upstream: int, certs: Certificates) -> Proxy:
    folder.mkdir(parents=True)
    port = free_port()
    if name == "nginx":
        config = nginx_server_block(port, upstream, certs)
    else:
        config = caddyfile(port, upstream, certs, folder)
    return launch_proxy(name, folder, port, config, certs)


def launch_proxy(name: str, folder: Path, port: int, config: str, certs: Certificates) -> Proxy:
    """nginx (`config`: its server block) or Caddy (`config`: the Caddyfile) on `port`, keeping its
    state in `folder`; answering when this returns."""
    env = dict(os.environ)
    if name == "nginx":
        (folder / "papercite.conf").write_text(config)
        (folder / "nginx.conf").write_text(nginx_main(folder))
        command = [tool("nginx", "nginx"), "-p", str(folder), "-c", str(folder / "nginx.conf"),
                   "-e", str(folder / "error.log")]  # fmt: skip
    else:
        (folder / "Caddyfile").write_text(config)
        command = [tool("caddy", "caddy"), "run", "--config", str(folder / "Caddyfile"),
                   "--adapter", "caddyfile"]  # fmt: skip
        env.update(caddy_environment(folder))
    log = folder / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    proxy = Proxy(name, port, process, log, certs)
    try:
        proxy.wait_until_ready()
    except BaseException:
        proxy.stop()
        raise
    return proxy


# --- the team: one server, its tokens, and each proxy in front of it ---------------------------


@dataclass
class Team:
    server: TeamServer
    writer: str
    reader: str
    flooder: str  # a read token the rate-limit test uses up
    certificates: Certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack, certificates: Certificates
) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("proxied")
    home = folder / "home"
    tokens = make_token(home, "writer", write=True), make_token(home, "reader"), make_token(home, "flooder")
    env = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PAPERCITE_SLACK_API_URL": slack.api_url,
    }
    extra = ("--max-body-mb", str(MAX_BODY_MB), "--rate", str(RATE))
    server = TeamServer(home, extra=extra, env=env).start()
    yield Team(server, *tokens, certificates)
    server.stop()


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def proxy(
    request: pytest.FixtureRequest, team: Team, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    folder = tmp_path_factory.mktemp(request.param) / "run"
    running = start_proxy(request.param, folder, team.server.port, team.certificates)
    yield running
    running.stop()


def cli(
    proxy: Proxy, token: str | None, *args: str, ca: bool = True, ca_file: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERCITE_")}
    env.update(PAPERCITE_HOME=proxy.url, PYTHONUTF8="1", XDG_CACHE_HOME=str(proxy.log.parent / "cache"))
    if token:
        env["PAPERCITE_TOKEN"] = token
    if ca or ca_file:
        env["PAPERCITE_CA_FILE"] = ca_file or str(proxy.certificates.authority)
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


# --- the clients, through each proxy -----------------------------------------------------------


def test_the_cli_searches_shows_counts_and_ingests_through_the_proxy(
    proxy: Proxy, team: Team, tmp_path: Path
) -> None:
    folder = str(team.server.home)
    for args in [
        ("search", "--json", "speculative decoding with a sparse KV cache", "-k", "5"),
        ("show", "triforce", "--bibtex"),
    ]:
        local = subprocess.run(
            [sys.executable, "-m", "core.cli", "--home", folder, *args],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        remote = cli(proxy, team.reader, *args)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout == local.stdout, args
    stats = json.loads(cli(proxy, team.reader, "stats", "--json").stdout)
    assert stats["home"] == proxy.url and stats["papers"] >= 179

    bib = tmp_path / "refs.bib"
    key = f"proxied2031{proxy.name}"
    bib.write_text(
        f"@article{{{key},\n  title = {{Glacier Moraines Dated Through {proxy.name}}},\n  year = {{2031}}\n}}\n"
    )
    refused = cli(proxy, team.reader, "ingest", str(bib))  # 403 through the proxy, in words
    assert refused.returncode == 1 and "--write" in refused.stderr and proxy.url in refused.stderr
    added = cli(proxy, team.writer, "ingest", str(bib))
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added 1,")
    assert cli(proxy, team.reader, "show", key).returncode == 0


def test_without_the_authority_the_cli_names_the_certificate_and_the_setting(
    proxy: Proxy, team: Team
) -> None:
    done = cli(proxy, team.reader, "stats", ca=False)
    assert done.returncode == 1
    assert f"cannot reach the papercite server at {proxy.url}" in done.stderr
    assert "certificate verify failed" in done.stderr and "PAPERCITE_CA_FILE" in done.stderr
    assert "Traceback" not in done.stderr
    missing = cli(proxy, team.reader, "stats", ca=False, ca_file=str(proxy.log.parent / "no-such.pem"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "the certificates in PAPERCITE_CA_FILE" in missing.stderr and "No such file" in missing.stderr


def editor_through(proxy: Proxy, token: str, tmp: Path) -> AbstractAsyncContextManager[LanguageClient]:
    """A language server whose home is the proxy's address, trusting the test CA."""
    return editor(proxy.url, token, tmp, PAPERCITE_CA_FILE=str(proxy.certificates.authority))


async def test_the_language_server_completes_and_hovers_through_the_proxy(
    proxy: Proxy, team: Team, tmp_path: Path
) -> None:
    async with editor_through(proxy, team.reader, tmp_path) as client:
        text, position = position_of("\\section{Intro}\n" + SENTENCE)
        uri = (tmp_path / "a.tex").as_uri()
        open_document(client, uri, text, "latex")
        items = await complete(client, uri, position)
        assert [i.label for i in items][:1] == ["triforce"] and len(items) == 10
        assert "hierarchical speculative decoding" in str(items[0].documentation)
        uri2 = (tmp_path / "b.tex").as_uri()
        open_document(client, uri2, "See \\cite{triforce}.\n", "latex")
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri2),
                position=types.Position(line=0, character=12),
            )
        )
        assert hover is not None and "TriForce" in str(hover.contents)
        assert not [m.message for m in client.messages if m.type == types.MessageType.Warning]


async def test_slacks_signed_posts_go_through_the_proxy(proxy: Proxy, slack: FakeSlack) -> None:
    async def post(body: str, headers: dict[str, str]) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{proxy.url}/slack/events", data=body, headers=headers, ssl=proxy.tls()) as answer,
        ):
            return answer.status

    slack.reset()
    body = command_body("stats", slack.response_url())
    assert await post(body, FORM | sign(SECRET, body)) == 200
    answer = (await slack.wait_for("response_url"))[0].payload
    assert "papers in the index" in json.dumps(answer)
    assert await post(body, FORM | sign("not-the-secret", body)) == 401


async def test_uploads_up_to_the_servers_limit_pass_and_one_byte_more_is_refused_cleanly(
    proxy: Proxy, team: Team, tmp_path: Path
) -> None:
    """The proxy's limit and papercite's are the same number of bytes: what papercite would take
    reaches it, one byte more is a 413 (from whichever refuses first), and the CLI says so in words."""
    headers = {"Authorization": f"Bearer {team.writer}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for size, status in [(LIMIT, 200), (LIMIT + 1, 413)]:
            async with session.post(
                f"{proxy.url}/v1/ingest", params={"name": "big.bib"}, data=b"%" * size, ssl=proxy.tls()
            ) as answer:
                assert answer.status == status, (size, await answer.text())
                if status == 200:
                    assert (await answer.json())["added"] == []
    big = tmp_path / "big.bib"
    big.write_bytes(b"%" * (LIMIT + 1))
    done = cli(proxy, team.writer, "ingest", str(big))
    assert done.returncode == 1
    assert f"the papercite server at {proxy.url} refused the upload as too large" in done.stderr
    assert "<html>" not in done.stderr


async def test_the_rate_limit_is_per_token_not_per_address_behind_the_proxy(proxy: Proxy, team: Team) -> None:
    """Behind a proxy every request comes from the proxy's address: a flood from one token must not
    limit another."""

    async def status(session: aiohttp.ClientSession, token: str) -> tuple[int, str | None]:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{proxy.url}/v1/changes", headers=headers, ssl=proxy.tls()) as answer:
            return answer.status, answer.headers.get("Retry-After")

    async with aiohttp.ClientSession() as session:
        flood = await asyncio.gather(*(status(session, team.flooder) for _ in range(4 * RATE)))
        other = await status(session, team.reader)
    assert 429 in [s for s, _ in flood] and all(s in (200, 429) for s, _ in flood)
    assert all(retry is not None and int(retry) >= 1 for s, retry in flood if s == 429)
    assert other == (200, None)


async def test_the_proxy_keeps_its_connections_to_papercite_alive(proxy: Proxy, team: Team) -> None:
    def to_upstream() -> dict[int, str]:
        """The proxy's end of each TCP connection (open or just closed) to the server, and its state."""
        found = {}
        for c in psutil.net_connections("tcp4"):
            if c.raddr and c.raddr.port == team.server.port:
                found[c.laddr.port] = c.status
            elif c.raddr and c.laddr.port == team.server.port:
                found.setdefault(c.raddr.port, c.status)
        return found

    before = set(to_upstream())
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {team.reader}"}) as session:
        for _ in range(20):
            async with session.get(f"{proxy.url}/v1/changes", ssl=proxy.tls()) as answer:
                assert answer.status == 200
    after = to_upstream()
    # Without keep-alive each request opens a connection (20, then closed); with it, the proxy's
    # idle ones from earlier requests are used again, and one a worker is opened at most.
    assert len(set(after) - before) <= 2, after
    assert psutil.CONN_ESTABLISHED in after.values()


def test_clients_speak_http2_to_the_proxy_and_the_token_goes_through(proxy: Proxy, team: Team) -> None:
    curl = tool("curl", "curl")

    def fetch(*headers: str) -> tuple[str, str]:
        done = subprocess.run(
            [curl, "--http2", "-sS", "--cacert", str(proxy.certificates.authority), "-w", "\n%{http_version} %{http_code} %header{www-authenticate}",
             *[arg for header in headers for arg in ("-H", header)], f"{proxy.url}/v1/stats"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        body, _, status = done.stdout.rpartition("\n")
        return body, status

    body, status = fetch(f"Authorization: Bearer {team.reader}")
    assert status == "2 200 " and json.loads(body)["papers"] >= 179
    body, status = fetch()
    assert status == '2 401 Bearer realm="papercite"' and json.loads(body)["code"] == "unauthorized"


# --- the files themselves, and the server's own warning ----------------------------------------


def test_the_documentation_shows_the_tested_files_as_they_are() -> None:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", (REPO / "docs" / "api.md").read_text(), re.S)
    for name in ("Caddyfile", "nginx.conf"):
        assert (DEPLOY / name).read_text() in blocks, f"docs/api.md should show docs/deploy/{name} as it is"
    # nginx's m is MiB, as papercite's MB: the two limits are the same number of bytes.
    assert f"client_max_body_size {DEFAULT_MAX_BODY_MB}m;" in (DEPLOY / "nginx.conf").read_text()


def test_serving_beyond_loopback_warns_and_points_at_the_proxy_configurations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_token(home, "someone")
    server = TeamServer(home, extra=("--host", "0.0.0.0")).start()
    server.stop()
    warnings = [line for line in server.output().splitlines() if "warning: serving on 0.0.0.0" in line]
    assert len(warnings) == 1, server.output()
    assert "reverse proxy with TLS" in warnings[0]
    for named in ("docs/deploy/Caddyfile", "docs/deploy/nginx.conf"):
        assert named in warnings[0] and (REPO / named).is_file()
    quiet = TeamServer(home).start()  # on loopback: no warning
    quiet.stop()
    assert "warning: serving" not in quiet.output()


@pytest.mark.parametrize("name", ["nginx", "caddy"])
async def test_papercite_restarting_behind_the_proxy_is_said_once_and_the_editor_recovers(
    name: str, certificates: Certificates, tmp_path: Path
) -> None:
    """The proxy stays up and answers 502 while papercite is down: the editor says so once (no
    proxy page in the message), completes from the document's .bib, and comes back with the server."""
    home = tmp_path / "home"
    token = make_token(home, "me")
    server = TeamServer(home).start()
    try:
        running = start_proxy(name, tmp_path / name, server.port, certificates)
    except BaseException:  # a proxy that cannot start (or is not installed) leaves no server running
        server.stop()
        raise
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    text, position = position_of(SENTENCE + "\\bibliography{refs}\n")
    uri = (tmp_path / "doc.tex").as_uri()
    try:
        async with editor_through(running, token, tmp_path) as client:
            open_document(client, uri, text, "latex")
            assert (await complete(client, uri, position))[0].label == "triforce"
            server.stop(signal.SIGKILL)
            assert [i.label for i in await complete(client, uri, position)] == ["mine2031photonic"]
            warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
            assert len(warnings) == 1, warnings
            assert f"cannot reach the papercite server at {running.url}: 502 Bad Gateway." in warnings[0]
            server.start()

            async def back() -> bool:
                if not any(
                    m.type == types.MessageType.Info and "is back" in m.message for m in client.messages
                ):
                    return False
                return (await complete(client, uri, position))[0].label == "triforce"

            deadline = time.monotonic() + 20
            while not await back():
                assert time.monotonic() < deadline, client.messages
                await asyncio.sleep(0.1)
            assert len([m for m in client.messages if m.type == types.MessageType.Warning]) == 1
    finally:
        running.stop()
        server.stop()
