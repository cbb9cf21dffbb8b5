import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  FILE_PATTERNS,
  LANGUAGES,
  WORKSPACE_FILES,
  documentSelector,
  initializationOptions,
  isTokenRefusal,
  needsRestart,
  onPath,
  scriptBeside,
  serverCommand,
  serverSettings,
  statusText,
  typedCitation,
} from "../config";
import * as manifest from "../../package.json";

test("papercite.path comes first, with ~ expanded, and the environment passed on", () => {
  const found = serverCommand({ path: " ~/bin/papercite ", home: "~/papers" }, { HOME: "/home/ada", UNSET: undefined }, {
    onPath: "/usr/bin/papercite",
  });
  assert.deepEqual(found, {
    command: "/home/ada/bin/papercite",
    args: ["lsp"],
    env: { HOME: "/home/ada", PAPERCITE_HOME: "/home/ada/papers" },
    how: "papercite.path",
  });
  assert.equal(serverCommand({ home: "" }, { PAPERCITE_HOME: "/kept" }, { onPath: "p" })?.env.PAPERCITE_HOME, "/kept");
  assert.equal(serverCommand({ home: "https://papers.example.org" }, {}, { onPath: "p" })?.env.PAPERCITE_HOME, "https://papers.example.org");
});

test("then PATH, ~/.local/bin, the Python extension's interpreter; nothing found is undefined", () => {
  const all = { onPath: "/p/papercite", userBin: "/u/papercite", besideInterpreter: "/v/bin/papercite", interpreter: "/v/bin/python" };
  const chosen = (found: object) => {
    const command = serverCommand({ path: "  " }, {}, found);
    return command && [command.command, ...command.args];
  };
  assert.deepEqual(chosen(all), ["/p/papercite", "lsp"]);
  assert.deepEqual(chosen({ ...all, onPath: undefined }), ["/u/papercite", "lsp"]);
  assert.deepEqual(chosen({ besideInterpreter: "/v/bin/papercite", interpreter: "/v/bin/python" }), ["/v/bin/papercite", "lsp"]);
  assert.deepEqual(chosen({ interpreter: "/v/bin/python" }), ["/v/bin/python", "-m", "core.cli", "lsp"]);
  assert.equal(chosen({}), undefined);
});

test("PATH is searched in order, with Windows' extensions on Windows", () => {
  const files = new Set(["/b/papercite", "C:\\t\\papercite.exe"]);
  assert.equal(onPath("papercite", "/a::/b:/c", (f) => files.has(f), false), "/b/papercite");
  assert.equal(onPath("papercite", "/a", (f) => files.has(f), false), undefined);
  assert.equal(onPath("papercite", undefined, () => true, false), undefined);
  assert.equal(scriptBeside("/venv/bin/python3", false), "/venv/bin/papercite");
});

test("LaTeX, Markdown, Quarto, MyST and BibTeX files are served, and start the extension", () => {
  const selector = documentSelector();
  assert.deepEqual(selector.flatMap((s) => ("language" in s ? [s.language] : [])), LANGUAGES);
  // Quarto, R Markdown and Sweave files by their name too: without their extensions VS Code calls
  // them Plain Text.
  assert.deepEqual(selector.flatMap((s) => ("pattern" in s ? [s.pattern] : [])), FILE_PATTERNS);
  for (const extension of ["qmd", "Rmd", "rmd", "Rnw"]) {
    assert.ok(FILE_PATTERNS.some((pattern) => new RegExp(`[{,]${extension}[,}]`).test(pattern)), extension);
  }
  assert.ok(selector.every((s) => s.scheme === "file"));
  for (const language of LANGUAGES) {
    assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
  }
  for (const pattern of WORKSPACE_FILES) {
    assert.ok(manifest.activationEvents.includes(`workspaceContains:${pattern}`), pattern);
  }
});

test("only the server's own settings reach it, and the token only in initialize", () => {
  const settings = { path: "x", home: "/h", maxItems: 5, diagnostics: false, languages: ["latex"] };
  assert.deepEqual(serverSettings(settings), { maxItems: 5, languages: ["latex"], diagnostics: false });
  assert.deepEqual(serverSettings({ semantic: false }), { semantic: false });
  assert.deepEqual(initializationOptions(settings, "s3cret"), {
    maxItems: 5,
    languages: ["latex"],
    diagnostics: false,
    token: "s3cret",
  });
  assert.deepEqual(initializationOptions({}), {});
});

test("every setting is declared with a type and a description, and read by the extension", () => {
  const properties: Record<string, { type?: string; markdownDescription?: string; description?: string }> =
    manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    "papercite.contextWindow",
    "papercite.diagnostics",
    "papercite.home",
    "papercite.languages",
    "papercite.maxItems",
    "papercite.path",
    "papercite.semantic",
  ]);
  for (const [name, property] of Object.entries(properties)) {
    assert.ok(property.type, name);
    assert.ok((property.markdownDescription ?? property.description ?? "").length > 20, name);
  }
  assert.ok(needsRestart((section) => section === "papercite.home"));
  assert.ok(!needsRestart((section) => section === "papercite.maxItems"));
});

test("every command is in the palette under papercite, and none clashes with the server's", () => {
  // vscode-languageclient registers each command the server declares under its own name.
  const server = ["papercite.search", "papercite.cite", "papercite.status", "papercite.addPaper",
    "papercite.addToBibliography", "papercite.createBibliography"];
  const declared = manifest.contributes.commands.map((c: { command: string; category: string }) => {
    assert.equal(c.category, "papercite");
    return c.command;
  });
  assert.deepEqual(declared.sort(), [
    "papercite.addPaperByLink",
    "papercite.citeSentence",
    "papercite.restart",
    "papercite.searchPapers",
    "papercite.setToken",
    "papercite.showStatus",
  ]);
  assert.deepEqual(declared.filter((command: string) => server.includes(command)), []);
});

test("the status bar says how many papers and where, or that something is wrong", () => {
  assert.deepEqual(statusText({ connected: true, home: "/h", papers: 1790 }), {
    text: "$(book) 1,790 papers",
    tooltip: "papercite: 1,790 papers in /h (connected)",
  });
  assert.equal(
    statusText({ connected: false, home: "https://p.example.org", error: "refused" }).tooltip,
    "papercite: team server https://p.example.org is not reachable: refused",
  );
  assert.equal(statusText(undefined).text, "$(warning) papercite");
});

test("a citation typed before the extension ran is recognised, and nothing else", () => {
  for (const typed of [
    "decoding~\\cite{",
    "decoding~\\citep[see][p.~3]{",
    "\\parencite<e.g.>{relay, tri",
    "\\cite{relay,",
    "decoding [@",
    "decoding [see @relay; @",
    "as @",
    "[-@",
    "drafts {cite}`",
    "drafts {cite:p}`relay,",
  ]) {
    assert.ok(typedCitation(typed), typed);
  }
  for (const typed of ["decoding", "\\cite{relay} and", "mail bob@", "\\section{", "{cite}`relay` and", ""]) {
    assert.ok(!typedCitation(typed), typed);
  }
});

test("a team server refusing the token points at the command that sets it", () => {
  const refused =
    "the papercite server at https://p.example.org did not accept the token (a valid token is needed (Authorization: Bearer …)); set PAPERCITE_TOKEN to a token made on the server with `papercite token create NAME`";
  assert.ok(isTokenRefusal(refused));
  assert.ok(!isTokenRefusal("cannot reach the papercite server at https://p.example.org: Connection refused"));
  assert.match(
    statusText({ connected: false, home: "https://p.example.org", error: refused }).tooltip,
    /\(papercite: Set team server token\)$/,
  );
});

test("a workspace cannot choose the executable papercite runs until it is trusted", () => {
  const trust = manifest.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, "limited");
  assert.deepEqual(trust.restrictedConfigurations, ["papercite.path", "papercite.home"]);
  assert.equal(manifest.capabilities.virtualWorkspaces.supported, false);
});
