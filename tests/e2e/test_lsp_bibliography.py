"""The document's own bibliography over the protocol: completion, definition, references, symbols,
code actions and commands, and the .bib written without loss."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Union

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import (
    PHOTONIC,
    SHARED_HOME,
    Editor,
    complete,
    diagnostics_when,
    position_of,
    server_config,
)

CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True, workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)
    ),
)


def read_code_actions_as_editors_do(client: LanguageClient) -> None:
    """lsprotocol reads any object with a "command" member as a Command, even a CodeAction whose
    command is an object; editors tell them apart by that member's type, as done here."""
    converter = client.protocol._converter

    def structure(value: Any, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
        return converter.structure(value, kind)

    # The key must be the typing.Union lsprotocol registered its own reader under.
    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


@pytest_lsp.fixture(config=server_config(SHARED_HOME))
async def client(lsp_client: LanguageClient):
    read_code_actions_as_editors_do(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(capabilities=CAPABILITIES))
    yield
    await lsp_client.shutdown_session()


def document(uri: str, position: types.Position) -> dict[str, object]:
    return {"text_document": types.TextDocumentIdentifier(uri=uri), "position": position}


async def execute(client: LanguageClient, command: types.Command) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )


async def actions_at(client: LanguageClient, uri: str, text: str, marker: str) -> list[types.CodeAction]:
    offset = text.index(marker)
    line = text.count("\n", 0, offset)
    character = offset - (text.rfind("\n", 0, offset) + 1)
    position = types.Position(line=line, character=character)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def test_completion_ranks_the_bibliography_with_the_index_and_adds_what_it_lacks(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    bib = tmp_path / "refs.bib"
    bib.write_bytes(PHOTONIC.replace("\n", "\r\n").encode())
    text, position = position_of(
        "\\bibliography{refs}\nQuantum annealing folds proteins on photonic chips~\\cite{|}.\n"
    )
    uri = (tmp_path / "paper.tex").as_uri()
    editor.open(uri, text, "latex")
    items = await complete(editor.client, uri, position)
    first = items[0]
    assert first.label == "mine2031photonic"  # only in the .bib, and ranked by the sentence
    assert first.detail is not None and first.detail.startswith("in refs.bib · Annealing Schedules")
    assert first.command is None

    text, position = position_of(
        "\\bibliography{refs}\nWe draft with a sparse KV cache in hierarchical speculative decoding~\\cite{|}.\n"
    )
    editor.open(uri, text, "latex")
    items = await complete(editor.client, uri, position)
    assert items[0].label == "triforce" and items[0].command is not None
    assert list(items[0].command.arguments or []) == [uri, ["triforce"]]
    await execute(editor.client, items[0].command)
    await execute(editor.client, items[0].command)  # a second time adds nothing
    data = bib.read_bytes()
    assert data.startswith(PHOTONIC.replace("\n", "\r\n").encode())
    assert data.count(b"@article{triforce,") + data.count(b"@misc{triforce,") == 1
    assert b"\n" not in data.replace(b"\r\n", b"")  # the file's line endings are kept
    diagnostics = await diagnostics_when(editor.client, uri, lambda found: True)
    assert not [d for d in diagnostics if d.code == "not-in-bibliography"]


async def test_a_bib_open_in_the_editor_is_changed_through_the_editor(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    bib = tmp_path / "refs.bib"
    bib.write_text(PHOTONIC)
    bib_uri = bib.as_uri()
    editor.open(bib_uri, PHOTONIC + "% unsaved note\n", "bibtex")
    uri = (tmp_path / "paper.tex").as_uri()
    editor.open(uri, "\\bibliography{refs}\nLoops align reasoning \\cite{relay}.\n", "latex")
    found = await diagnostics_when(
        editor.client, uri, lambda d: [x.code for x in d] == ["not-in-bibliography"]
    )
    assert found[0].message == "'relay' is in the papercite index but not in refs.bib yet"
    actions = await actions_at(
        editor.client, uri, "\\bibliography{refs}\nLoops align reasoning \\cite{relay}.\n", "relay"
    )
    add = next(a for a in actions if a.title == "Add relay to refs.bib")
    assert add.command is not None
    await execute(editor.client, add.command)
    assert bib.read_text() == PHOTONIC  # the disk is the editor's to write
    buffer = editor.text(bib_uri)
    assert buffer.startswith(PHOTONIC + "% unsaved note\n\n@") and "{relay," in buffer
    await diagnostics_when(editor.client, uri, lambda d: d == [])


async def test_a_broken_entry_is_reported_in_the_bib_and_the_others_still_count(
    client: LanguageClient, tmp_path: Path
) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{good1, title={First Good Entry}}\n\n@article{broken, title={Unclosed\n\n"
        "@article{good2, title={Second Good Entry}}\n"
    )
    uri = (tmp_path / "paper.tex").as_uri()
    text = "\\bibliography{refs}\nAs shown \\cite{good1,good2,nowhere}.\n"
    Editor(client).open(uri, text, "latex")
    found = await diagnostics_when(client, uri, lambda d: len(d) > 0)
    assert [d.message.split(":")[0] for d in found] == ["Unknown citation key 'nowhere'"]
    bib_found = await diagnostics_when(client, bib.as_uri(), lambda d: len(d) > 0)
    assert len(bib_found) == 1 and bib_found[0].severity == types.DiagnosticSeverity.Error
    assert bib_found[0].range.start.line == 2
    assert bib_found[0].message.startswith("papercite cannot read this entry")


async def test_a_bib_edited_on_disk_is_read_again(client: LanguageClient, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{first, title={First}}\n")
    uri = (tmp_path / "paper.tex").as_uri()
    Editor(client).open(uri, "\\bibliography{refs}\nSee \\cite{first,later2031}.\n", "latex")
    found = await diagnostics_when(client, uri, lambda d: len(d) == 1)
    assert "'later2031'" in found[0].message
    bib.write_text("@article{first, title={First}}\n@article{later2031, title={Written Later}}\n")
    await diagnostics_when(client, uri, lambda d: d == [])


async def test_a_bibliography_that_does_not_exist_is_an_error_on_its_line(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "paper.tex").as_uri()
    text = "Text.\n\\bibliography{refs,missing}\n"
    (tmp_path / "refs.bib").write_text("@misc{a, title={A}}\n")
    Editor(client).open(uri, text, "latex")
    found = await diagnostics_when(client, uri, lambda d: len(d) > 0)
    assert len(found) == 1
    assert found[0].severity == types.DiagnosticSeverity.Error
    assert found[0].message.startswith("Bibliography file 'missing' not found")
    assert found[0].range == types.Range(start=types.Position(1, 19), end=types.Position(1, 26))
    (tmp_path / "missing.bib").write_text("")
    await diagnostics_when(client, uri, lambda d: d == [])


async def test_two_documents_share_one_bib(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    first, second = (tmp_path / "a.tex").as_uri(), (tmp_path / "b.md").as_uri()
    editor.open(
        first, "\\bibliography{refs}\nAnnealing \\cite{mine2031photonic} and \\cite{relay}.\n", "latex"
    )
    editor.open(second, "---\nbibliography: refs.bib\n---\nLoops [@relay; @mine2031photonic].\n", "markdown")
    for uri in (first, second):
        found = await diagnostics_when(editor.client, uri, lambda d: len(d) == 1)
        assert found[0].code == "not-in-bibliography"
    references = await editor.client.text_document_references_async(
        types.ReferenceParams(
            **document(first, types.Position(1, 18)),  # type: ignore[arg-type]
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert references is not None
    assert [(r.uri, r.range.start.line) for r in references] == [
        ((tmp_path / "refs.bib").as_uri(), 0),
        (first, 1),
        (second, 3),
    ]
    # Adding the entry from one document fixes both.
    actions = await actions_at(editor.client, first, editor.text(first), "relay")
    await execute(editor.client, next(a for a in actions if a.title == "Add relay to refs.bib").command)  # type: ignore[arg-type]
    for uri in (first, second):
        await diagnostics_when(editor.client, uri, lambda d: d == [])


async def test_definition_goes_to_the_entry(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text("% mine\n\n" + PHOTONIC)
    uri = (tmp_path / "paper.tex").as_uri()
    text = (
        "\\bibliography{refs}\n\\cite{mine2031photonic} \\cite{triforce} \\cite{local}\n"
        "\\begin{thebibliography}{1}\n\\bibitem{local} A. Author. Local Work. 2020.\n\\end{thebibliography}\n"
    )
    Editor(client).open(uri, text, "latex")

    async def definition(character: int) -> list[types.Location]:
        result = await client.text_document_definition_async(
            types.DefinitionParams(**document(uri, types.Position(1, character)))  # type: ignore[arg-type]
        )
        assert isinstance(result, list)
        return [r for r in result if isinstance(r, types.Location)]

    in_bib = await definition(8)
    assert [(d.uri, d.range.start.line) for d in in_bib] == [((tmp_path / "refs.bib").as_uri(), 2)]
    inline = await definition(text.split("\n")[1].index("local") + 1)
    assert inline[0].uri == uri and inline[0].range.start == types.Position(3, 9)
    page = await definition(text.split("\n")[1].index("triforce") + 1)
    path = Path(page[0].uri.removeprefix("file://"))
    lines = path.read_text().split("\n")
    assert lines[page[0].range.start.line].startswith("@") and "{triforce," in lines[page[0].range.start.line]


async def test_code_actions_fix_keys_and_cite_a_sentence(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    uri = (tmp_path / "paper.tex").as_uri()
    text = (
        "\\bibliography{refs}\n"
        "We draft with a sparse KV cache in hierarchical speculative decoding.\n"
        "Looped models \\cite{trifroce}.\n"
    )
    editor.open(uri, text, "latex")
    fixes = await actions_at(editor.client, uri, text, "trifroce")
    did_you_mean = next(a for a in fixes if a.title == "Did you mean 'triforce'?")
    assert did_you_mean.is_preferred and did_you_mean.edit is not None

    cites = await actions_at(editor.client, uri, text, "sparse KV")
    assert len(cites) == 3 and all(a.kind == types.CodeActionKind.RefactorRewrite for a in cites)
    assert cites[0].title.startswith("Cite papers for this sentence: triforce (TriForce")
    edits = cites[0].edit.changes[uri]  # type: ignore[union-attr,index]
    assert edits[0].new_text == "~\\cite{triforce}"
    assert edits[0].range.start == types.Position(
        1, len("We draft with a sparse KV cache in hierarchical speculative decoding")
    )
    assert cites[0].command is not None and list(cites[0].command.arguments or []) == [uri, ["triforce"]]
    # Within a citation, or in a sentence that already has one, nothing is offered to cite.
    assert not [a for a in await actions_at(editor.client, uri, text, "Looped") if a.title.startswith("Cite")]


async def test_code_actions_come_in_the_order_of_what_the_cursor_is_on(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    uri = (tmp_path / "paper.tex").as_uri()
    text = (
        "\\bibliography{refs}\n"
        "We draft with a sparse KV cache in hierarchical speculative decoding.\n"
        "Looped models \\cite{relay} and drafts \\cite{triforce} beat \\cite{magicroe}.\n"
    )
    editor.open(uri, text, "latex")
    all_missing = "Add all missing entries to refs.bib (relay, triforce)"

    async def titles(marker: str) -> list[str]:
        return [a.title for a in await actions_at(editor.client, uri, text, marker)]

    # On a sentence without a citation: its papers first (menus default to the first), then the
    # whole document's fix.
    on_sentence = await titles("sparse KV")
    assert [t.split(": ")[0] for t in on_sentence] == ["Cite papers for this sentence"] * 3 + [all_missing]
    # On a key the .bib lacks: that key's entry first.
    assert await titles("relay") == ["Add relay to refs.bib", all_missing]
    # On an unknown key: the fix of the diagnostic under the cursor first.
    on_unknown = await titles("magicroe")
    assert on_unknown[0] == "Did you mean 'magicore'?" and on_unknown[-1] == all_missing


async def test_add_all_missing_entries_and_create_a_bibliography(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    uri = (tmp_path / "paper.tex").as_uri()
    text = (
        "\\documentclass{article}\n\\begin{document}\n"
        "Loops \\cite{relay} and drafts \\cite{triforce,unknownkey}.\n\\end{document}\n"
    )
    editor.open(uri, text, "latex")
    actions = await actions_at(editor.client, uri, text, "Loops")
    create = next(a for a in actions if a.title.startswith("Create references.bib"))
    await execute(editor.client, create.command)  # type: ignore[arg-type]
    bib = (tmp_path / "references.bib").read_text()
    assert bib.count("@") == 2 and "{relay," in bib and "{triforce," in bib
    assert editor.text(uri).endswith(
        "\\bibliographystyle{plain}\n\\bibliography{references}\n\\end{document}\n"
    )
    found = await diagnostics_when(editor.client, uri, lambda d: len(d) == 1)
    assert found[0].code == "unknown-key"

    md_uri = (tmp_path / "notes.md").as_uri()
    md = "---\ntitle: Notes\nbibliography: references.bib\n---\nSee [@relay; @magicore] and @automathcritique.\n"
    editor.open(md_uri, md, "markdown")
    actions = await actions_at(editor.client, md_uri, md, "See")
    add_all = next(a for a in actions if a.title.startswith("Add all missing entries"))
    assert add_all.title == "Add all missing entries to references.bib (automathcritique, magicore)"
    await execute(editor.client, add_all.command)  # type: ignore[arg-type]
    bib = (tmp_path / "references.bib").read_text()
    assert bib.count("@") == 4
    await diagnostics_when(editor.client, md_uri, lambda d: d == [])


async def test_markdown_bibliographies_yaml_lists_csl_json_and_inline_references(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "refs.bib").write_text(PHOTONIC)
    (tmp_path / "zotero.json").write_text(
        '[{"id": "zot2030", "type": "article-journal", "title": "Exported From Zotero About Coral Reefs",'
        ' "abstract": "Coral reef bleaching measured by drones."}]'
    )
    uri = (tmp_path / "notes.qmd").as_uri()
    text, position = position_of(
        "---\nbibliography:\n  - refs.bib\n  - zotero.json\nreferences:\n  - id: inline1\n    title: Inline Work\n---\n"
        "Drones measure coral reef bleaching [@|].\n\nAlso [@mine2031photonic; @inline1; @zot2030].\n"
    )
    editor = Editor(client)
    editor.open(uri, text, "quarto")
    items = await complete(client, uri, position)
    assert items[0].label == "zot2030" and items[0].detail.startswith("in zotero.json")  # type: ignore[union-attr]
    # What is typed of a key finds the document's own entries, whatever the sentence.
    line = text.split("\n")[8]
    typed = text.replace(line, line.replace("[@]", "[@inl]"))
    editor.open(uri.replace("notes", "typed"), typed, "quarto")
    after_typing = await complete(
        client, uri.replace("notes", "typed"), types.Position(8, line.index("@") + 4)
    )
    assert after_typing[0].label == "inline1" and after_typing[0].detail == "in this document · Inline Work"
    assert await diagnostics_when(client, uri, lambda d: True) == []


async def test_workspace_symbols_search_the_index(client: LanguageClient, tmp_path: Path) -> None:
    query = types.WorkspaceSymbolParams(query="sparse KV cache hierarchical speculative decoding")
    found = await client.workspace_symbol_async(query)
    assert found and found[0].name.startswith("triforce: TriForce")
    assert isinstance(found[0], types.SymbolInformation)
    # The line a symbol points at names the paper (Emacs lists symbols by that line): on its page,
    # the heading with key and title…
    page = Path(found[0].location.uri.removeprefix("file://"))
    lines = page.read_text().split("\n")
    assert lines[found[0].location.range.start.line] == (
        "% triforce: TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical "
        "Speculative Decoding"
    )
    # …and in a bibliography of an open document, the entry's title.
    (tmp_path / "refs.bib").write_text(
        "@misc{triforce,\n  booktitle = {Not This},\n  title = {TriForce, as I keep it},\n}\n"
    )
    Editor(client).open((tmp_path / "paper.tex").as_uri(), "\\bibliography{refs}\n", "latex")
    in_bib = await client.workspace_symbol_async(query)
    assert in_bib and isinstance(in_bib[0], types.SymbolInformation)
    assert (in_bib[0].location.uri, in_bib[0].location.range.start.line) == (
        (tmp_path / "refs.bib").as_uri(),
        2,
    )
    by_key = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="rela"))
    assert by_key and by_key[0].name.startswith("relay:")
    assert await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="   ")) == []


async def test_commands_with_bad_arguments_say_so(client: LanguageClient) -> None:
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="papercite.addToBibliography", arguments=["file:///nowhere.txt"])
    )
    for _ in range(100):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert client.messages[-1].type == types.MessageType.Warning
    assert "unknown command or arguments" in client.messages[-1].message


async def test_a_json_file_no_document_uses_is_left_alone(client: LanguageClient, tmp_path: Path) -> None:
    package = tmp_path / "package.json"
    package.write_text('{"name": "not a bibliography"}\n')
    editor = Editor(client)
    editor.open(package.as_uri(), package.read_text(), "json")
    # A .bib open on its own still shows its problems.
    bib = tmp_path / "lonely.bib"
    bib.write_text("@article{x, title={Unclosed\n")
    editor.open(bib.as_uri(), bib.read_text(), "bibtex")
    found = await diagnostics_when(client, bib.as_uri(), lambda d: len(d) == 1)
    assert found[0].range.start.line == 0
    await asyncio.sleep(0.5)
    assert package.as_uri() not in client.diagnostics
