// The command the extension builds really starts papercite's language server, and the same
// JSON-RPC library vscode-languageclient uses gets completions from it over stdio.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from "vscode-jsonrpc/node";
import { TRIGGER_CHARACTERS, serverCommand } from "../config";

test("the extension's server command answers completion, ranked by the sentence", async () => {
  const executable = process.env.PAPERCITE_EXECUTABLE;
  assert.ok(executable, "PAPERCITE_EXECUTABLE must name the papercite executable");
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "papercite-vscode-"));
  const found = serverCommand({ path: executable, home }, process.env);
  assert.ok(found);
  const { command, args, env } = found;
  const server = spawn(command, args, { env, stdio: ["pipe", "pipe", "inherit"] });
  const connection = createMessageConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  connection.onRequest("workspace/configuration", () => [null]);
  connection.onNotification("window/showMessage", () => undefined);
  connection.onNotification("textDocument/publishDiagnostics", () => undefined);
  connection.listen();
  try {
    const init: { capabilities: { completionProvider: { triggerCharacters: string[] }; executeCommandProvider: { commands: string[] } } } =
      await connection.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
    // The extension answers completions typed while the server starts on the server's own triggers.
    assert.deepEqual([...init.capabilities.completionProvider.triggerCharacters].sort(), [...TRIGGER_CHARACTERS].sort());
    // The commands the extension's palette entries call are the server's.
    for (const command of ["papercite.search", "papercite.cite", "papercite.status", "papercite.addPaper"]) {
      assert.ok(init.capabilities.executeCommandProvider.commands.includes(command), command);
    }
    await connection.sendNotification("initialized", {});
    const uri = pathToFileURL(path.join(home, "paper.tex")).href;
    const line = "We draft with a sparse KV cache in hierarchical speculative decoding~\\cite{}.";
    await connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: "latex", version: 1, text: line + "\n" },
    });
    const result: { isIncomplete: boolean; items: { label: string }[] } = await connection.sendRequest(
      "textDocument/completion",
      { textDocument: { uri }, position: { line: 0, character: line.indexOf("{}") + 1 } },
    );
    assert.equal(result.isIncomplete, true);
    assert.equal(result.items[0].label, "triforce");
    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
  } finally {
    connection.dispose();
    server.kill();
  }
});
