// Starts `papercite lsp` for LaTeX, Markdown, Quarto and MyST files (as soon as a workspace holds
// one), and gives VS Code users papercite's own commands: search and cite, cite the sentence, add a
// paper, the index's status, the team server's token.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import {
  CompletionRequest,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  ServerOptions,
  ShowMessageNotification,
  State,
} from "vscode-languageclient/node";
import {
  Found,
  INSTALL_COMMAND,
  STARTUP_WAIT_MS,
  Settings,
  TRIGGER_CHARACTERS,
  Status,
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
} from "./config";
import { searchAndCite } from "./search";

const TOKEN_SECRET = "papercite.token";
// How often the status bar asks the index how many papers it holds and whether a team server
// answers (a count: cheap at a million papers), so that it never tells of a state long gone.
const STATUS_POLL_MS = 15000;

let client: LanguageClient | undefined;
// Settles when the client has started (or failed to); undefined before the first start.
let starting: Promise<boolean> | undefined;
let ready = false;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let secrets: vscode.SecretStorage;
// How the running server was found (serverCommand's `how`), or undefined when none was.
let foundBy: string | undefined;

// A document papercite cites in (not a .bib: the selector holds BibTeX only to keep its edits seen).
function serves(document: vscode.TextDocument): boolean {
  return document.languageId !== "bibtex" && vscode.languages.match(documentSelector(), document) > 0;
}

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("papercite");
  return {
    path: config.get<string>("path"),
    home: config.get<string>("home"),
    maxItems: config.get<number>("maxItems"),
    contextWindow: config.get<number>("contextWindow"),
    languages: config.get<string[]>("languages"),
    diagnostics: config.get<boolean>("diagnostics"),
    semantic: config.get<boolean>("semantic"),
  };
}

const isFile = (file: string) => {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

// The interpreter the Python extension has selected, if it is installed and papercite is in it.
async function pythonInterpreter(): Promise<Found> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) return {};
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const environments = api?.environments;
    if (!environments) return {};
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
    const interpreter: string | undefined = resolved?.executable?.uri?.fsPath;
    if (!interpreter) return {};
    if (isFile(scriptBeside(interpreter))) return { besideInterpreter: scriptBeside(interpreter) };
    const check = "import importlib.metadata as m; m.version('papercite')";
    const has = await new Promise<boolean>((resolve) =>
      execFile(interpreter, ["-c", check], { timeout: 10000 }, (error) => resolve(!error)),
    );
    return has ? { interpreter } : {};
  } catch (error) {
    output.appendLine(`papercite: could not ask the Python extension for its interpreter: ${error}`);
    return {};
  }
}

async function findServer(settings: Settings): Promise<ReturnType<typeof serverCommand>> {
  const found: Found = {
    onPath: onPath("papercite", process.env.PATH, isFile),
    userBin: onPath("papercite", path.join(os.homedir(), ".local", "bin"), isFile),
  };
  const first = serverCommand(settings, process.env, found);
  return first ?? serverCommand(settings, process.env, await pythonInterpreter());
}

// The Settings editor at one setting. papercite.path and papercite.home belong to the machine that
// runs the server: in a remote window (code-server, SSH, WSL, containers) they are listed under
// Remote, not User, where the plain Open Settings would show "No Settings Found".
async function openSetting(query: string): Promise<void> {
  if (vscode.env.remoteName) {
    await vscode.commands.executeCommand("workbench.action.openRemoteSettings", { query });
  } else {
    await vscode.commands.executeCommand("workbench.action.openSettings", query);
  }
}

async function notFound(): Promise<void> {
  const open = "Open setting";
  const copy = "Copy install command";
  const choice = await vscode.window.showErrorMessage(
    `papercite: the papercite language server was not found on PATH, in ~/.local/bin or in the Python ` +
      `extension's interpreter. Install it with \`${INSTALL_COMMAND}\` (or pip install papercite in ` +
      `your environment), or set "papercite.path" to the papercite executable.`,
    open,
    copy,
  );
  if (choice === open) await openSetting("papercite.path");
  if (choice === copy) await vscode.env.clipboard.writeText(INSTALL_COMMAND);
}

// Starts the server; `starting` settles once it runs (true) or cannot (false), and is set at once, so
// that a completion asked for while the server is still being looked for waits for it too.
function start(): Promise<boolean> {
  const run = startClient();
  starting = run;
  return run;
}

async function startClient(): Promise<boolean> {
  const settings = readSettings();
  const server = await findServer(settings);
  foundBy = server?.how;
  if (!server) {
    showStatus(undefined);
    void notFound();
    return false;
  }
  output.appendLine(`papercite: starting ${server.command} ${server.args.join(" ")} (found by ${server.how})`);
  const serverOptions: ServerOptions = { command: server.command, args: server.args, options: { env: server.env } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions: initializationOptions(settings, await secrets.get(TOKEN_SECRET)),
    outputChannel: output,
    middleware: {
      workspace: {
        // The server asks for its section: only its own settings go (see serverSettings).
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) return answers;
          return answers.map((answer, index) =>
            params.items[index]?.section === "papercite" ? serverSettings(readSettings()) : answer,
          );
        },
      },
    },
  };
  const started = new LanguageClient("papercite", "papercite", serverOptions, clientOptions);
  client = started;
  // The server's messages, with a way out where VS Code has one; each may tell of a team server
  // gone or back, so the status bar is read again.
  started.onNotification(ShowMessageNotification.type, (params) => {
    void showServerMessage(params.type, params.message);
    void refreshStatus();
  });
  // A server that stopped for good (it crashed again and again) is said so in the status bar.
  started.onDidChangeState((event) => {
    if (client !== started) return;
    if (event.newState === State.Stopped) showStatus(undefined);
    else if (event.newState === State.Running) void refreshStatus();
  });
  try {
    await started.start();
  } catch (error) {
    showStatus(undefined);
    const message = `papercite could not start '${server.command} ${server.args.join(" ")}': ${error}. Set "papercite.path" to the papercite executable.`;
    void vscode.window.showErrorMessage(message, "Open setting").then((choice) => {
      if (choice) void openSetting("papercite.path");
    });
    return false;
  }
  ready = true;
  // The index may still be opening (a first use seeds it): ask again a few times before saying so.
  for (let tries = 0; tries < 10 && client === started && !(await refreshStatus()); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  // A citation typed while the server or its index was starting may have been answered with
  // nothing (each waits a bounded time; a loaded machine can take longer): ask again, now ready.
  if (client === started) askAgainForTypedCitation();
  return true;
}

async function showServerMessage(type: MessageType, message: string): Promise<void> {
  const tokenItem = "Set team server token";
  const items = isTokenRefusal(message) ? [tokenItem] : [];
  const show =
    type === MessageType.Error
      ? vscode.window.showErrorMessage
      : type === MessageType.Warning
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  if ((await show(message, ...items)) === tokenItem) await setToken();
}

async function restart(): Promise<void> {
  ready = false;
  if (client) {
    const stopping = client;
    client = undefined;
    await stopping.stop().catch(() => undefined);
  }
  await start();
}

// The Python extension's interpreter changed: a server found through it, or not found at all, is
// looked for again.
async function watchPythonInterpreter(context: vscode.ExtensionContext): Promise<void> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) return;
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const changes = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (typeof changes !== "function") return;
    context.subscriptions.push(
      changes(() => {
        if (!foundBy || foundBy === "the Python extension's interpreter") void restart();
      }),
    );
  } catch (error) {
    output.appendLine(`papercite: could not follow the Python extension's interpreter: ${error}`);
  }
}

// Whether the server runs, waiting (bounded) for one that is starting: a command run right after
// opening a file, like a completion typed then, is for the server about to answer.
async function serverReady(): Promise<boolean> {
  if (!ready && starting) {
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STARTUP_WAIT_MS));
    await Promise.race([starting, timeout]);
  }
  return !!client?.isRunning();
}

// Runs one of the server's workspace/executeCommand commands; undefined if there is no server.
export async function serverCommandCall<T>(command: string, ...args: unknown[]): Promise<T | undefined> {
  if (!(await serverReady()) || !client) {
    void vscode.window.showWarningMessage("papercite: the language server is not running.");
    return undefined;
  }
  return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
}

function showStatus(status: Status | undefined): void {
  const { text, tooltip } = statusText(status);
  statusItem.text = text;
  statusItem.tooltip = tooltip;
  statusItem.show();
}

async function refreshStatus(): Promise<Status | undefined> {
  const asked = client;
  let status: Status | undefined;
  try {
    status = asked?.isRunning()
      ? ((await asked.sendRequest(ExecuteCommandRequest.type, { command: "papercite.status", arguments: [] })) as Status)
      : undefined;
  } catch (error) {
    output.appendLine(`papercite: the index status could not be read: ${error}`);
  }
  // A restart while this was asked: the new server's status is on its way.
  if (asked === client) showStatus(status ?? undefined);
  return status ?? undefined;
}

async function indexStatus(): Promise<void> {
  const status = await refreshStatus();
  const { tooltip } = statusText(status);
  const restartItem = "Restart the language server";
  const settingsItem = "Open papercite settings";
  const tokenItem = "Set team server token";
  const choice = await vscode.window.showInformationMessage(tooltip, restartItem, settingsItem, tokenItem);
  if (choice === restartItem) await restart();
  if (choice === settingsItem) await openSetting("papercite");
  if (choice === tokenItem) await setToken();
}

async function citeSentence(): Promise<void> {
  // The server's "Cite papers for this sentence" code actions, in VS Code's own menu (VS Code says
  // there are none if the server has not registered its provider yet).
  await serverReady();
  await vscode.commands.executeCommand("editor.action.codeAction", { kind: "refactor.rewrite", apply: "never" });
}

async function addPaper(): Promise<void> {
  const text = await vscode.window.showInputBox({
    title: "papercite: Add paper",
    prompt: "A DOI, an arXiv id, a doi.org or arxiv.org link (looked up on Crossref, arXiv, OpenAlex), or a pasted BibTeX entry",
    placeHolder: "https://doi.org/10.1145/…, 2404.11912, arxiv.org/abs/…, @article{key, …}",
    ignoreFocusOut: true,
  });
  if (!text?.trim()) return;
  const result = await serverCommandCall<{ added: string[]; updated: string[]; unchanged: string[] }>(
    "papercite.addPaper",
    text,
  );
  if (!result) return; // the server said why
  const keys = [...result.added, ...result.updated, ...result.unchanged];
  const verb = result.added.length ? "added" : result.updated.length ? "updated" : "already had";
  await refreshStatus();
  // The paper just added is most often the one to cite where the cursor is.
  const editor = vscode.window.activeTextEditor;
  const citeItem = "Cite it here";
  const items = editor && serves(editor.document) && keys.length === 1 ? [citeItem] : [];
  const choice = await vscode.window.showInformationMessage(`papercite: ${verb} ${keys.join(", ")}`, ...items);
  if (choice === citeItem && editor && !editor.document.isClosed) {
    const { line, character } = editor.selection.active;
    await serverCommandCall("papercite.cite", editor.document.uri.toString(), { line, character }, keys[0]);
  }
}

async function setToken(): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: "papercite: Team server token",
    prompt: "The token your team server gave you (papercite token create). Kept in VS Code's secret storage; empty removes it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return;
  if (token.trim()) await secrets.store(TOKEN_SECRET, token.trim());
  else await secrets.delete(TOKEN_SECRET);
  await restart();
}

// A file opened while the server starts: VS Code asks for completions only the providers registered
// at that moment, and the client registers its own once the server has answered `initialize`. This
// one answers (through the client) those early requests, after waiting for the start; later it
// steps aside.
function startupCompletion(): vscode.Disposable {
  const provider: vscode.CompletionItemProvider = {
    async provideCompletionItems(document, position, token, context) {
      if (ready || !starting) return undefined;
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STARTUP_WAIT_MS));
      if (!(await Promise.race([starting, timeout])) || !client || token.isCancellationRequested) return undefined;
      const params = client.code2ProtocolConverter.asCompletionParams(document, position, context);
      const result = await client.sendRequest(CompletionRequest.type, params, token);
      return client.protocol2CodeConverter.asCompletionResult(result, undefined, token);
    },
  };
  return vscode.languages.registerCompletionItemProvider(documentSelector(), provider, ...TRIGGER_CHARACTERS);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  secrets = context.secrets;
  output = vscode.window.createOutputChannel("papercite");
  statusItem = vscode.window.createStatusBarItem("papercite.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "papercite";
  statusItem.command = "papercite.showStatus";
  statusItem.text = "$(sync~spin) papercite";
  statusItem.show();
  context.subscriptions.push(
    output,
    statusItem,
    startupCompletion(),
    vscode.commands.registerCommand("papercite.restart", restart),
    vscode.commands.registerCommand("papercite.searchPapers", () => searchAndCite(serverCommandCall, serves)),
    vscode.commands.registerCommand("papercite.citeSentence", citeSentence),
    vscode.commands.registerCommand("papercite.addPaperByLink", addPaper),
    vscode.commands.registerCommand("papercite.showStatus", indexStatus),
    vscode.commands.registerCommand("papercite.setToken", setToken),
    statusPoll(),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) void restart();
      else if (event.affectsConfiguration("papercite") && client?.isRunning()) {
        void client.sendNotification("workspace/didChangeConfiguration", {
          settings: { papercite: serverSettings(readSettings()) },
        });
      }
    }),
  );
  const running = start();
  askAgainForTypedCitation();
  void watchPythonInterpreter(context);
  await running;
}

// VS Code loads the extension only once a LaTeX or Markdown file is open, and with other extensions
// loading at the same time that can take seconds: a `\cite{` or `[@` typed meanwhile asked no
// papercite provider. Ask again now; the startup provider waits for the server.
function askAgainForTypedCitation(): void {
  const editor = vscode.window.activeTextEditor;
  // (version 1: nothing typed since the file was opened — a cursor restored inside a citation
  // from the last session is left alone)
  if (!editor || !serves(editor.document) || editor.document.version < 2) return;
  const cursor = editor.selection.active;
  const before = editor.document.lineAt(cursor.line).text.slice(0, cursor.character);
  if (editor.selection.isEmpty && typedCitation(before)) {
    void vscode.commands.executeCommand("editor.action.triggerSuggest");
  }
}

function statusPoll(): vscode.Disposable {
  const timer = setInterval(() => {
    if (ready && vscode.window.state.focused) void refreshStatus();
  }, STATUS_POLL_MS);
  return { dispose: () => clearInterval(timer) };
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
