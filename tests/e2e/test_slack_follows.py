"""A channel follows a topic and new papers come to it: `papercite slack --http` on loopback with
signed requests, a harvest from the local fake of arXiv's OAI-PMH, and `papercite digest` posting
to the local fake of Slack's Web API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, run_cli
from tests.e2e.fake_slack import FakeSlack, action_payload, command_fields, sign
from tests.e2e.test_slack import FORM, SECRET, post
from tests.fakes.sources import FakeSources, OaiRecord, synthetic_oai_records

DECODING_CHANNEL = "C2147483705"  # the channel the fake's commands come from
RETRIEVAL_CHANNEL = "C0RETRIEVE1"

SPECULATIVE = [
    (
        "EAGLE-4: Feature-Level Speculative Decoding with Adaptive Draft Trees",
        "Speculative decoding accelerates large language model inference: a light draft head proposes "
        "several tokens that the target model verifies in one forward pass. We grow the draft tree "
        "adaptively and reach 3.9x lossless speedups.",
    ),
    (
        "Speculative Decoding for Long Contexts with Retrieval-Free Self-Drafting",
        "We study speculative decoding when the context is long: the target model drafts for itself "
        "by skipping layers, and verification keeps the output distribution unchanged. Decoding "
        "latency drops by half on 128K-token prompts.",
    ),
    (
        "Batched Speculative Decoding at Serving Scale",
        "Serving systems batch requests, which changes what speculative decoding gains. We schedule "
        "draft lengths per request in a batch and show 1.8x throughput for speculative decoding "
        "in production traffic.",
    ),
]
RETRIEVAL = [
    (
        "Late-Interaction Dense Retrieval with Compressed Token Embeddings",
        "Dense passage retrieval encodes queries and passages separately; late interaction scores "
        "every query token against the passage tokens. We compress the passage embeddings and keep "
        "retrieval quality on MS MARCO and BEIR while the index shrinks ten times.",
    ),
    (
        "Hard Negatives for Training Dense Retrievers in Open-Domain Question Answering",
        "Dense retrievers for open-domain question answering learn from negatives: passages that look "
        "relevant to the query but are not. We mine hard negatives with a cross-encoder re-ranker and "
        "improve passage retrieval recall.",
    ),
]
# Papers the channel shared before it followed: ingested from BibTeX, shared with the Share button.
SHARED_RETRIEVAL_BIB = """
@inproceedings{karpukhin2020dense,
  title = {Dense Passage Retrieval for Open-Domain Question Answering},
  author = {Karpukhin, Vladimir and Oguz, Barlas},
  year = {2020},
  abstract = {Open-domain question answering relies on efficient passage retrieval to select candidate
    contexts. We show that retrieval can be implemented using dense representations alone, where
    embeddings are learned from a small number of questions and passages by a dual-encoder. Our dense
    retriever outperforms a strong BM25 system in top-20 passage retrieval accuracy.}
}
@inproceedings{khattab2020colbert,
  title = {ColBERT: Efficient and Effective Passage Search via Contextualized Late Interaction over BERT},
  author = {Khattab, Omar and Zaharia, Matei},
  year = {2020},
  abstract = {Recent progress in neural ranking for passage retrieval fine-tunes deep language models.
    ColBERT introduces a late interaction architecture that encodes the query and the passage
    independently with BERT and scores their token embeddings, making dense retrieval efficient.}
}
"""
# Near misses: "decoding" without speculation.
DECODING_ELSEWHERE = [
    (
        f"Neural Decoding of Speech from Cortical Recordings, Cohort {n}",
        "We decode attempted speech from intracranial recordings with a recurrent network; "
        f"decoding accuracy in cohort {n} reaches 80% of words.",
    )
    for n in range(1, 11)
]


def harvest_records() -> list[OaiRecord]:
    """200 new arXiv records: 3 on speculative decoding, 2 on dense retrieval, 10 on decoding of
    another kind, the rest about something else, interleaved."""
    filler = synthetic_oai_records(200 - len(SPECULATIVE) - len(RETRIEVAL) - len(DECODING_ELSEWHERE))
    topical = [*SPECULATIVE, *RETRIEVAL, *DECODING_ELSEWHERE]
    records: list[OaiRecord] = []
    for number, record in enumerate(filler):
        records.append(record)
        if number % 12 == 5 and topical:
            title, abstract = topical.pop(0)
            records.append(
                OaiRecord(
                    arxiv_id=f"2412.{20000 + number:05d}",
                    datestamp=record.datestamp,
                    set_spec="cs",
                    title=title,
                    abstract=abstract,
                    authors=[("Writer", f"Ann {number}")],
                    categories="cs.CL cs.LG",
                    created=record.created,
                )
            )
    assert not topical and len(records) == 200
    return records


@pytest.fixture(scope="module")
def team(slack: FakeSlack) -> Iterator[tuple[str, Path, FakeSources]]:
    """A home with two retrieval papers ingested, `papercite slack --http` serving it, and the fake
    OAI-PMH holding tomorrow's 200 papers."""
    home = Path(tempfile.mkdtemp(prefix="papercite-follows-"))
    bib = home.parent / f"{home.name}-shared.bib"
    bib.write_text(SHARED_RETRIEVAL_BIB)
    assert run_cli(home, "ingest", str(bib)).returncode == 0
    port = free_port()
    with FakeSources() as sources, tempfile.TemporaryFile("w+") as log:
        sources.oai = harvest_records()
        env = {
            **os.environ,
            "PAPERCITE_HOME": str(home),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "PAPERCITE_SLACK_API_URL": slack.api_url,
            **sources.env(),
            "PAPERCITE_ARXIV_INTERVAL": "0",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stderr=log,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", home, sources
        process.terminate()
        process.communicate(timeout=10)
        log.seek(0)
        stderr = log.read()
    assert "Traceback" not in stderr, stderr


async def command(base: str, slack: FakeSlack, text: str, channel: str = DECODING_CHANNEL) -> str:
    """`/paper text` in `channel`; the text of the private answer's sections."""
    slack.reset()
    body = urllib.parse.urlencode(command_fields(text, slack.response_url()) | {"channel_id": channel})
    status, _ = await post(base, body, FORM | sign(SECRET, body))
    assert status == 200
    (answer,) = await slack.wait_for("response_url")
    return " ".join(
        block["text"]["text"] for block in answer.payload["blocks"] if block.get("type") == "section"
    )


async def share(base: str, slack: FakeSlack, key: str, channel: str) -> None:
    """The Share button under a result, pressed in `channel`."""
    slack.reset()
    payload = action_payload("share", json.dumps({"k": key}), slack.response_url())
    payload["channel"] = {"id": channel, "name": "retrieval"}
    payload["container"]["channel_id"] = channel
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    status, _ = await post(base, body, FORM | sign(SECRET, body))
    assert status == 200
    (posted,) = await slack.wait_for("chat.postMessage")
    assert posted.payload["channel"] == channel


def blocks_of(payload: dict) -> list[dict]:
    blocks = payload["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def digest(home: Path, slack: FakeSlack, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        home,
        "digest",
        *args,
        variables={"SLACK_BOT_TOKEN": "xoxb-test-token", "PAPERCITE_SLACK_API_URL": slack.api_url},
        timeout=120,
    )


def card_titles(blocks: list[dict]) -> list[str]:
    """The paper titles of a message's result cards, in order."""
    titles = []
    for block in blocks:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith("*<") and "|" in text:
            titles.append(text.split("|", 1)[1].split(">*", 1)[0])
    return titles


async def test_a_followed_topic_brings_its_new_papers_once(
    team: tuple[str, Path, FakeSources], slack: FakeSlack
) -> None:
    base, home, sources = team
    said = await command(base, slack, "follow speculative decoding")
    assert "Following new papers on _speculative decoding_ (follow 1)" in said
    # The retrieval channel shares its two papers, then follows papers like them.
    for key in ("karpukhin2020dense", "khattab2020colbert"):
        await share(base, slack, key, RETRIEVAL_CHANNEL)
    said = await command(base, slack, "follow --library", RETRIEVAL_CHANNEL)
    assert "like the ones shared, added and linked here (follow 1)" in said
    assert "1.* speculative decoding" in await command(base, slack, "following")

    harvested = run_cli(
        home,
        "harvest",
        "arxiv",
        "--set",
        "cs",
        "--json",
        timeout=300,
        variables={**sources.env(), "PAPERCITE_ARXIV_INTERVAL": "0"},
    )
    assert harvested.returncode == 0, harvested.stderr
    assert json.loads(harvested.stdout)["added"] == 200

    slack.reset()
    dry = digest(home, slack, "--all", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"channel {DECODING_CHANNEL}:" in dry.stdout and not slack.calls

    sent = digest(home, slack, "--all")
    assert sent.returncode == 0, sent.stderr
    posts = [call.payload for call in slack.calls if call.method == "chat.postMessage"]
    by_channel = {p["channel"]: p for p in posts if "thread_ts" not in p}
    assert sorted(by_channel) == sorted([DECODING_CHANNEL, RETRIEVAL_CHANNEL])
    decoding = card_titles(blocks_of(by_channel[DECODING_CHANNEL]))
    assert sorted(decoding[:3]) == sorted(title for title, _ in SPECULATIVE)
    assert not any(title.startswith("Neural Decoding") for title in decoding)
    retrieval = card_titles(blocks_of(by_channel[RETRIEVAL_CHANNEL]))
    assert sorted(retrieval[:2]) == sorted(title for title, _ in RETRIEVAL)
    assert not any("Speculative" in title for title in retrieval)

    # The next day, nothing new: nothing is posted.
    slack.reset()
    again = digest(home, slack, "--all")
    assert again.returncode == 0, again.stderr
    assert [call.method for call in slack.calls] == []
    assert "sent 0 digests; 2 channels had nothing new" in again.stdout


def test_the_bot_harvests_on_its_schedule(slack: FakeSlack, tmp_path: Path) -> None:
    """`papercite slack --http --harvest arxiv:cs --harvest-every 1h`: the first round runs at start,
    from the fake OAI-PMH, and the papers are there for /healthz."""
    port = free_port()
    with FakeSources() as sources, tempfile.TemporaryFile("w+") as log:
        sources.oai = synthetic_oai_records(120)
        env = {
            **os.environ,
            "PAPERCITE_HOME": str(tmp_path / "home"),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "PAPERCITE_SLACK_API_URL": slack.api_url,
            **sources.env(),
            "PAPERCITE_ARXIV_INTERVAL": "0",
        }
        arguments = ["--harvest", "arxiv:cs", "--harvest", "arxiv:cs.IR", "--harvest-every", "1h"]
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "core.cli",
                "slack",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *arguments,
            ],
            cwd=REPO,
            env=env,
            stderr=log,
            text=True,
        )
        try:
            deadline, logged = time.monotonic() + 60, ""
            while time.monotonic() < deadline and "harvest arxiv:cs.IR:" not in logged:
                assert process.poll() is None
                time.sleep(0.2)
                log.seek(0)
                logged = log.read()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert json.load(answer)["papers"] == 179 + 120
        finally:
            process.terminate()
            process.communicate(timeout=10)
        log.seek(0)
        logged = log.read()
    assert "harvest arxiv:cs: 120 records in 2 pages (complete): added 120" in logged, logged
    assert "harvest arxiv:cs.IR: 40 records" in logged and "Traceback" not in logged


def test_a_bad_harvest_spec_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "slack", "--http", "--harvest", "crossref:everything")
    assert result.returncode == 2
    assert "argument --harvest: 'crossref:everything' is not a harvest" in result.stderr
    result = run_cli(tmp_path, "serve", "--harvest", "arxiv:cs", "--harvest-every", "5s")
    assert result.returncode == 2 and "'5s' is too short" in result.stderr


def test_digest_needs_the_token_and_a_folder(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "digest", variables={"SLACK_BOT_TOKEN": None})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "papercite: set SLACK_BOT_TOKEN to send digests (or use --dry-run to see them)"
    )
    dry = run_cli(tmp_path / "home", "digest", "--dry-run", variables={"SLACK_BOT_TOKEN": None})
    assert dry.returncode == 0 and dry.stdout.strip() == "would send 0 digests; 0 channels had nothing new"
    remote = run_cli("http://127.0.0.1:9/", "digest", "--dry-run")
    assert remote.returncode == 1 and "digest works on a folder's store" in remote.stderr
