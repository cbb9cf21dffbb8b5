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
  ServerOptions,
} from "vscode-languageclient/node";
import {
  Found,
  INSTALL_COMMAND,
  LANGUAGES,
  STARTUP_WAIT_MS,
  Settings,
  TRIGGER_CHARACTERS,
  Status,
  documentSelector,
  initializationOptions,
  needsRestart,
  onPath,
  scriptBeside,
  serverCommand,
  serverSettings,
  statusText,
} from "./config";
import { searchAndCite } from "./search";

const TOKEN_SECRET = "papercite.token";

let client: LanguageClient | undefined;
// Settles when the client has started (or failed to); undefined before the first start.
let starting: Promise<boolean> | undefined;
let ready = false;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let secrets: vscode.SecretStorage;

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("papercite");
  return {
    path: config.get<string>("path"),
    home: config.get<string>("home"),
    maxItems: config.get<number>("maxItems"),
    contextWindow: config.get<number>("contextWindow"),
    languages: config.get<string[]>("languages"),
    diagnostics: config.get<boolean>("diagnostics"),
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
  if (choice === open) await vscode.commands.executeCommand("workbench.action.openSettings", "papercite.path");
  if (choice === copy) await vscode.env.clipboard.writeText(INSTALL_COMMAND);
}

async function start(): Promise<void> {
  const settings = readSettings();
  const server = await findServer(settings);
  if (!server) {
    showStatus(undefined);
    void notFound();
    return;
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
  client = new LanguageClient("papercite", "papercite", serverOptions, clientOptions);
  const started = client.start();
  starting = started.then(
    () => true,
    () => false,
  );
  try {
    await started;
  } catch (error) {
    showStatus(undefined);
    const message = `papercite could not start '${server.command} ${server.args.join(" ")}': ${error}. Set "papercite.path" to the papercite executable.`;
    void vscode.window.showErrorMessage(message);
    return;
  }
  ready = true;
  // The index may still be opening (a first use seeds it): ask again a few times before saying so.
  for (let tries = 0; tries < 10 && !(await refreshStatus()); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
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

// Runs one of the server's workspace/executeCommand commands; undefined if there is no server.
export async function serverCommandCall<T>(command: string, ...args: unknown[]): Promise<T | undefined> {
  if (!client || !client.isRunning()) {
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
  let status: Status | undefined;
  try {
    status = client?.isRunning() ? ((await serverCommandCall<Status>("papercite.status")) ?? undefined) : undefined;
  } catch (error) {
    output.appendLine(`papercite: the index status could not be read: ${error}`);
  }
  showStatus(status);
  return status;
}

async function indexStatus(): Promise<void> {
  const status = await refreshStatus();
  const { tooltip } = statusText(status);
  const restartItem = "Restart the language server";
  const settingsItem = "Open papercite settings";
  const tokenItem = "Set team server token";
  const choice = await vscode.window.showInformationMessage(tooltip, restartItem, settingsItem, tokenItem);
  if (choice === restartItem) await restart();
  if (choice === settingsItem) await vscode.commands.executeCommand("workbench.action.openSettings", "papercite");
  if (choice === tokenItem) await setToken();
}

async function citeSentence(): Promise<void> {
  // The server's "Cite papers for this sentence" code actions, in VS Code's own menu.
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
  void vscode.window.showInformationMessage(`papercite: ${verb} ${keys.join(", ")}`);
  await refreshStatus();
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
    vscode.commands.registerCommand("papercite.searchPapers", () => searchAndCite(serverCommandCall, LANGUAGES)),
    vscode.commands.registerCommand("papercite.citeSentence", citeSentence),
    vscode.commands.registerCommand("papercite.addPaperByLink", addPaper),
    vscode.commands.registerCommand("papercite.showStatus", indexStatus),
    vscode.commands.registerCommand("papercite.setToken", setToken),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) void restart();
      else if (event.affectsConfiguration("papercite") && client?.isRunning()) {
        void client.sendNotification("workspace/didChangeConfiguration", {
          settings: { papercite: serverSettings(readSettings()) },
        });
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
