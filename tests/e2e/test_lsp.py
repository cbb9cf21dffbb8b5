"""The language server over stdio, driven by pytest-lsp as an editor would."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from benchmarks.citing_sentences import load_sentences, rate
from benchmarks.lsp_latency import EDITOR_CAPABILITIES
from core.library import Library
from tests.conftest import sentence_files
from tests.e2e.conftest import (
    SHARED_HOME,
    complete,
    diagnostics_when,
    open_document,
    position_of,
    server_config,
)

CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(configuration=True),
    text_document=types.TextDocumentClientCapabilities(
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(
                documentation_format=[types.MarkupKind.Markdown], snippet_support=False
            )
        ),
        hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
    ),
)


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, initialization_options={"maxItems": 10})
    )
    yield
    await lsp_client.shutdown_session()


async def test_latex_completion_is_ranked_by_the_sentence(client: LanguageClient) -> None:
    text, position = position_of(
        "\\section{Intro}\nWe draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"
    )
    open_document(client, "file:///doc/a.tex", text, "latex")
    items = await complete(client, "file:///doc/a.tex", position)
    assert [i.label for i in items][:1] == ["triforce"]
    assert len(items) == 10
    assert [i.sort_text for i in items] == sorted(i.sort_text or "" for i in items)
    first = items[0]
    assert first.detail == "TriForce: Lossless Acceleration of Long Sequence…"
    assert first.text_edit == types.TextEdit(
        range=types.Range(start=position, end=position), new_text="triforce"
    )
    assert isinstance(first.documentation, types.MarkupContent)
    # The sentence sharing most of the context's words is the bold one.
    assert re.search(
        r"\*\*[^*]*dynamic sparse KV cache via retrieval as a draft model[^*]*\*\*", first.documentation.value
    )


async def test_markdown_completion_and_typed_prefix_filters(client: LanguageClient) -> None:
    text, position = position_of(
        "Loop the transformer and align each iteration with a reasoning step [@|].\n"
    )
    open_document(client, "file:///doc/b.md", text, "markdown")
    items = await complete(client, "file:///doc/b.md", position)
    assert items[0].label == "relay"

    typed, position = position_of(
        "Loop the transformer and align each iteration with a reasoning step [@ka|].\n"
    )
    open_document(client, "file:///doc/c.md", typed, "markdown")
    filtered = await complete(client, "file:///doc/c.md", position)
    assert filtered and all(
        i.label.startswith("ka") or "ka" in (i.filter_text or "").split()[1:] or "ka" in (i.filter_text or "")
        for i in filtered
    )
    assert "kangaroo" in [i.label for i in filtered]


async def test_keys_already_cited_are_not_offered_again(client: LanguageClient) -> None:
    text, position = position_of(
        "Hierarchical speculative decoding with a sparse KV cache~\\citep{triforce, |}.\n"
    )
    open_document(client, "file:///doc/d.tex", text, "latex")
    labels = [i.label for i in await complete(client, "file:///doc/d.tex", position)]
    assert labels and "triforce" not in labels


async def test_no_completion_outside_citations(client: LanguageClient) -> None:
    text, position = position_of("% \\cite{| in a comment\nmail me at a@b.org and $x \\cite{y}$\n")
    open_document(client, "file:///doc/e.tex", text, "latex")
    assert not await complete(client, "file:///doc/e.tex", position)
    md, md_position = position_of("```\n[@|\n```\n")
    open_document(client, "file:///doc/e.md", md, "markdown")
    assert not await complete(client, "file:///doc/e.md", md_position)


async def test_hover_on_a_cited_key(client: LanguageClient) -> None:
    text, position = position_of("As in \\citep{rel|ay}, loops help.\n")
    open_document(client, "file:///doc/f.tex", text, "latex")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="file:///doc/f.tex"), position=position
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("**RELAY**")
    assert "Looped Transformers" in hover.contents.value
    assert hover.range == types.Range(
        start=types.Position(line=0, character=13), end=types.Position(line=0, character=18)
    )


async def test_unknown_keys_get_a_warning_with_suggestions(client: LanguageClient, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{mine2020, title={Only in my bibliography}}\n")
    doc = tmp_path / "paper.tex"
    text = "See \\cite{trifroce, relay, mine2020} and \\nocite{*}.\n\\bibliography{refs}\n"
    uri = doc.as_uri()
    open_document(client, uri, text, "latex")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    for _ in range(50):
        if uri in client.diagnostics:
            break
        await asyncio.sleep(0.05)
    found = client.diagnostics[uri]
    assert [d.code for d in found] == ["unknown-key", "not-in-bibliography"]
    warning, lacking = found
    assert lacking.severity == types.DiagnosticSeverity.Information
    assert lacking.message == "'relay' is in the papercite index but not in refs.bib yet"
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert warning.range == types.Range(
        start=types.Position(line=0, character=10), end=types.Position(line=0, character=18)
    )
    assert warning.message == (
        "Unknown citation key 'trifroce': not in the papercite index or the bibliography; did you mean triforce?"
    )


async def test_markdown_cross_references_and_links_get_no_warning(
    client: LanguageClient, tmp_path: Path
) -> None:
    # A MyST page: its own targets, a citation as a link's text and an `@` in a bare URL are not
    # citations; the one unknown key is warned about, and an unfinished `[@` still completes.
    text, position = position_of(
        "(loops)=\n# Looped transformers\n\nAs @loops shows, see [@jupyter-book](https://github.com/jupyter-book)"
        " and https://hackmd.io/@team/notes {cite}`skipdecode`.\n\n"
        "Each loop iteration of the transformer is aligned with a reasoning step [@|].\n\nDrafts [@trifroce].\n"
    )
    uri = (tmp_path / "page.md").as_uri()
    open_document(client, uri, text, "markdown")
    assert (await complete(client, uri, position))[0].label == "relay"
    found = await diagnostics_when(client, uri, lambda d: len(d) == 1)
    assert [(d.code, d.range.start) for d in found] == [("unknown-key", types.Position(line=7, character=9))]


async def test_markdown_links_that_look_like_citations_get_no_warning_nor_hover(
    client: LanguageClient, tmp_path: Path
) -> None:
    # A pandoc page (no MyST in it): a citation as a link's text, an `@` in a bare URL and a label a
    # link reference definition names are links, though pandoc reads a Cite in each; the real
    # citations beside them are read, the one unknown key warned about.
    text = (
        "# Looped transformers\n\nSee [@jupyter-book](https://github.com/jupyter-book), the notes at "
        "https://hackmd.io/@team/notes and [@ch5, V.9], after [@relay].\n\nDrafts [@trifroce].\n\n"
        "[@ch5, V.9]: https://example.org/chapter-5\n"
    )
    uri = (tmp_path / "paper.md").as_uri()
    open_document(client, uri, text, "markdown")
    found = await diagnostics_when(client, uri, lambda d: len(d) >= 1)
    assert [(d.code, d.range.start) for d in found] == [("unknown-key", types.Position(line=4, character=9))]

    async def hover_at(key: str) -> types.Hover | None:
        line = next(n for n, body in enumerate(text.splitlines()) if f"@{key}" in body)
        character = text.splitlines()[line].index(f"@{key}") + 2
        return await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )

    assert await hover_at("jupyter-book") is None
    assert await hover_at("team") is None
    assert await hover_at("ch5") is None
    relay = await hover_at("relay")
    assert relay is not None and isinstance(relay.contents, types.MarkupContent)
    assert "relay" in relay.contents.value


async def test_the_server_survives_hostile_input(client: LanguageClient) -> None:
    big = ("Some filler text about nothing in particular. " * 230_000)[:10_000_000]
    text = big + "\nSparse KV cache speculative decoding~\\cite{"
    open_document(client, "file:///doc/big.tex", text, "latex")
    end = types.Position(line=1, character=len("Sparse KV cache speculative decoding~\\cite{"))
    items = await complete(client, "file:///doc/big.tex", end)
    assert items and items[0].label == "triforce"
    # Positions past the end of a line and of the file, unbalanced braces, thousands of citations.
    open_document(client, "file:///doc/odd.tex", "}}{{ \\cite{a}}} " + "\\cite{k} " * 5000, "latex")
    for position in [types.Position(line=0, character=10**6), types.Position(line=10**6, character=0)]:
        assert not await complete(client, "file:///doc/odd.tex", position)
    # Edits faster than answers: fire many changes and completions without waiting.
    uri = "file:///doc/fast.md"
    open_document(client, uri, "", "markdown")
    requests = []
    for version in range(2, 40):
        content = "Looped transformers align reasoning steps [@" + "r" * (version % 3)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=content)],
            )
        )
        requests.append(
            client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=0, character=len(content)),
                )
            )
        )
    results = await asyncio.gather(*requests)
    assert all(isinstance(r, types.CompletionList) for r in results)
    text, position = position_of("Looped transformers align reasoning steps [@|\n")
    open_document(client, "file:///doc/alive.md", text, "markdown")
    assert (await complete(client, "file:///doc/alive.md", position))[0].label == "relay"


def _cited(sentence: str, language: str) -> tuple[str, types.Position]:
    body = sentence.rstrip().rstrip(".")
    marked = f"{body}~\\cite{{|}}." if language == "latex" else f"{body} [@|]."
    return position_of(marked + "\n")


@pytest.mark.parametrize("path", sentence_files(), ids=lambda p: p.stem)
@pytest.mark.parametrize("language", ["latex", "markdown"])
async def test_citing_sentences_through_the_server(client: LanguageClient, language: str, path: Path) -> None:
    sentences = load_sentences(path)
    library = await Library.open(SHARED_HOME)
    try:
        papers = [p async for batch in library.store.iter_papers() for p in batch]
    finally:
        await library.close()
    ranks: list[int | None] = []
    for number, sentence in enumerate(sentences):
        text, position = _cited(sentence.text, language)
        uri = f"file:///eval/{path.stem}/{language}/{number}.{'tex' if language == 'latex' else 'md'}"
        open_document(client, uri, text, language)
        labels = [i.label for i in await complete(client, uri, position)]
        gold = {p.key for p in papers if sentence.is_gold(p)}
        ranks.append(next((n for n, label in enumerate(labels, start=1) if label in gold), None))
    rates = rate(ranks)
    print(
        json.dumps(
            {"language": language, "first": rates.first / rates.total, "top3": rates.top3 / rates.total}
        )
    )
    assert rates.first / rates.total >= 0.95
    assert rates.top3 / rates.total >= 0.98


def test_lsp_command_exists() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "lsp", "--help"], capture_output=True, text=True
    )
    assert "--tcp" in result.stdout


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def resolving_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=EDITOR_CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


async def test_documentation_arrives_on_resolve_for_clients_that_ask(
    resolving_client: LanguageClient,
) -> None:
    text, position = position_of(
        "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"
    )
    open_document(resolving_client, "file:///doc/r.tex", text, "latex")
    items = await complete(resolving_client, "file:///doc/r.tex", position)
    assert items[0].label == "triforce"
    data = [{"key": item.label, "uri": "file:///doc/r.tex"} for item in items]
    assert all(item.documentation is None for item in items) and [item.data for item in items] == data
    resolved = await resolving_client.completion_item_resolve_async(items[0])
    assert isinstance(resolved.documentation, types.MarkupContent)
    assert resolved.documentation.value.startswith("**TriForce")
    assert re.search(r"\*\*[^*]*sparse KV cache[^*]*\*\*", resolved.documentation.value)
