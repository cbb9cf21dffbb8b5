import { test } from "node:test";
import * as assert from "node:assert/strict";
import { LANGUAGES, documentSelector, initializationOptions, needsRestart, serverCommand } from "../config";
import * as manifest from "../../package.json";

test("the server command is `papercite lsp` by default, with the environment passed on", () => {
  const { command, args, env } = serverCommand({}, { PATH: "/bin", UNSET: undefined });
  assert.equal(command, "papercite");
  assert.deepEqual(args, ["lsp"]);
  assert.deepEqual(env, { PATH: "/bin" });
});

test("the executable and the home come from the settings, with ~ expanded", () => {
  const { command, env } = serverCommand({ path: " ~/bin/papercite ", home: "~/papers" }, { HOME: "/home/ada" });
  assert.equal(command, "/home/ada/bin/papercite");
  assert.equal(env.PAPERCITE_HOME, "/home/ada/papers");
  assert.equal(serverCommand({ path: "  " }, {}).command, "papercite");
  assert.equal(serverCommand({ home: "" }, { PAPERCITE_HOME: "/kept" }).env.PAPERCITE_HOME, "/kept");
});

test("LaTeX, Markdown, Quarto, MyST and BibTeX files are served, and activate the extension", () => {
  assert.deepEqual(documentSelector().map((s) => s.language), LANGUAGES);
  assert.ok(documentSelector().every((s) => s.scheme === "file"));
  for (const language of ["latex", "markdown", "quarto", "myst"]) {
    assert.ok(LANGUAGES.includes(language), language);
    assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
  }
});

test("initialization options carry only the settings that are set", () => {
  assert.deepEqual(initializationOptions({ maxItems: 5, diagnostics: false, path: "x" }), {
    maxItems: 5,
    diagnostics: false,
  });
  assert.deepEqual(initializationOptions({}), {});
});

test("every setting the manifest declares is one the extension reads", () => {
  const declared = Object.keys(manifest.contributes.configuration.properties).sort();
  assert.deepEqual(declared, [
    "papercite.contextWindow",
    "papercite.diagnostics",
    "papercite.home",
    "papercite.maxItems",
    "papercite.path",
  ]);
  assert.ok(needsRestart((section) => section === "papercite.home"));
  assert.ok(!needsRestart((section) => section === "papercite.maxItems"));
});
