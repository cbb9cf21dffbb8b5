// Starts `papercite lsp` for LaTeX, Markdown, Quarto and MyST files, and restarts it when the
// executable or the index home changes.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";
import { Settings, documentSelector, initializationOptions, needsRestart, serverCommand } from "./config";

let client: LanguageClient | undefined;

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration("papercite");
  return {
    path: config.get<string>("path"),
    home: config.get<string>("home"),
    maxItems: config.get<number>("maxItems"),
    contextWindow: config.get<number>("contextWindow"),
    diagnostics: config.get<boolean>("diagnostics"),
  };
}

async function start(): Promise<void> {
  const settings = readSettings();
  const { command, args, env } = serverCommand(settings, process.env);
  const serverOptions: ServerOptions = { command, args, options: { env } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions: initializationOptions(settings),
    synchronize: { configurationSection: "papercite" },
  };
  client = new LanguageClient("papercite", "papercite", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const message = `papercite could not start '${command} lsp': ${error}. Set "papercite.path" to the papercite executable.`;
    void vscode.window.showErrorMessage(message);
  }
}

async function restart(): Promise<void> {
  if (client) await client.stop();
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("papercite.restart", restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) void restart();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
