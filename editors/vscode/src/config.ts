// What the extension asks of papercite: pure functions of the settings and of what was found on
// the machine, so they run (and are tested) under plain Node, without VS Code.
import * as path from "node:path";

export interface Settings {
  path?: string;
  home?: string;
  maxItems?: number;
  contextWindow?: number;
  languages?: string[];
  diagnostics?: boolean;
  semantic?: boolean;
}

export interface ServerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  // How it was found, for the output channel and the status: "papercite.path", "PATH", …
  how: string;
}

// What was found on the machine, in the order it is tried after `papercite.path`.
export interface Found {
  onPath?: string; // `papercite` on the extension host's PATH
  userBin?: string; // `papercite` in ~/.local/bin (pipx, pip --user), often missing from that PATH
  interpreter?: string; // the Python extension's selected interpreter, if it has papercite installed
  besideInterpreter?: string; // the `papercite` script in that interpreter's environment
}

// VS Code's language ids for the files papercite serves; `bibtex` so that edits to an open .bib
// go through the editor and its changes are seen before they are saved.
export const LANGUAGES = ["latex", "tex", "markdown", "quarto", "myst", "rmd", "bibtex"];
// Files whose presence in a workspace starts the server at once, before a file is opened.
export const WORKSPACE_FILES = ["**/*.tex", "**/*.bib", "**/*.qmd", "**/*.Rmd", "**/myst.yml"];
export const INSTALL_COMMAND = "pipx install papercite";
// The server's completion trigger characters (core/documents/syntax.py: LaTeX's and Markdown's), for the
// completions asked for while it is still starting.
export const TRIGGER_CHARACTERS = [",", "@", ";", "`", "{"];
// How long a completion typed while the server starts waits for it.
export const STARTUP_WAIT_MS = 10000;
// The settings the server itself reads (server/settings.py); the others are the extension's.
const SERVER_SETTINGS = ["maxItems", "contextWindow", "languages", "diagnostics", "semantic"] as const;

// Files papercite reads by their extension whatever language VS Code gives them: without the Quarto
// or R extensions a .qmd or .Rmd is Plain Text, and would otherwise get no completion at all.
export const FILE_PATTERNS = ["**/*.{qmd,Qmd,QMD,rmd,Rmd,RMD,rnw,Rnw,RNW}"];

export type Selector = { scheme: string; language: string } | { scheme: string; pattern: string };

export function documentSelector(): Selector[] {
  return [
    ...LANGUAGES.map((language) => ({ scheme: "file", language })),
    ...FILE_PATTERNS.map((pattern) => ({ scheme: "file", pattern })),
  ];
}

// The text before the cursor ends inside a citation being typed: LaTeX's `\cite{` (any \…cite…
// command, with its [..] and <..> arguments) and its key list, Pandoc's `[@`, `@` and `; @`, MyST's
// {cite}`. A completion typed there before the extension was running (VS Code loads it only once
// the file is open) is asked for again when it starts.
const TYPED_CITATION = [
  /\\[A-Za-z]*[cC]ite[A-Za-z]*\*?(?:\[[^\]\n]*\]|<[^>\n]*>)*\{[^{}\\%\n]*$/,
  /(?:^|[\s\[(;-])@[\w:.#$%&\-+?<>~/]*$/,
  /\{cite(?::[a-z]+)?\}`[^`]*$/,
];

export function typedCitation(beforeCursor: string): boolean {
  return TYPED_CITATION.some((pattern) => pattern.test(beforeCursor));
}

// The papercite executable: papercite.path, else PATH, else ~/.local/bin, else the Python
// extension's interpreter (its environment's script, or `python -m core.cli`); undefined if none.
export function serverCommand(
  settings: Settings,
  environment: Record<string, string | undefined>,
  found: Found = {},
): ServerCommand | undefined {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined) env[name] = value;
  }
  const userHome = env.HOME ?? env.USERPROFILE ?? "";
  const home = (settings.home ?? "").trim();
  if (home) env.PAPERCITE_HOME = isUrl(home) ? home : expandHome(home, userHome);
  const configured = (settings.path ?? "").trim();
  const lsp = (command: string, how: string, args = ["lsp"]) => ({ command, args, env, how });
  if (configured) return lsp(expandHome(configured, userHome), "papercite.path");
  if (found.onPath) return lsp(found.onPath, "PATH");
  if (found.userBin) return lsp(found.userBin, "~/.local/bin");
  if (found.besideInterpreter) return lsp(found.besideInterpreter, "the Python extension's interpreter");
  if (found.interpreter) {
    return lsp(found.interpreter, "the Python extension's interpreter", ["-m", "core.cli", "lsp"]);
  }
  return undefined;
}

// The first `name` in the PATH's folders that `isFile` accepts (with Windows' extensions there).
export function onPath(
  name: string,
  pathVariable: string | undefined,
  isFile: (candidate: string) => boolean,
  windows = process.platform === "win32",
): string | undefined {
  const suffixes = windows ? [".exe", ".cmd", ".bat", ""] : [""];
  for (const folder of (pathVariable ?? "").split(windows ? ";" : ":")) {
    if (!folder) continue;
    for (const suffix of suffixes) {
      const candidate = path.join(folder, name + suffix);
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

// The `papercite` script installed beside a Python interpreter (a venv's bin/ or Scripts\).
export function scriptBeside(interpreter: string, windows = process.platform === "win32"): string {
  return path.join(path.dirname(interpreter), windows ? "papercite.exe" : "papercite");
}

// Only the server's own settings: `path` and `home` are the extension's (home reaches the server
// as PAPERCITE_HOME), and an unknown name would be reported to the user as ignored.
export function serverSettings(settings: Settings): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const name of SERVER_SETTINGS) {
    if (settings[name] !== undefined) options[name] = settings[name];
  }
  return options;
}

// What `initialize` carries: the server's settings, and the team server's token when there is one
// (kept in VS Code's SecretStorage, never in settings.json).
export function initializationOptions(settings: Settings, token?: string): Record<string, unknown> {
  const options = serverSettings(settings);
  if (token) options.token = token;
  return options;
}

// Settings whose change needs a new server process rather than a configuration update.
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed("papercite.path") || changed("papercite.home");
}

export interface Status {
  connected: boolean;
  home?: string | null;
  papers?: number;
  error?: string;
}

// A team server's refusal of the token, in the server's words (core/remote.py): the way out in
// VS Code is the Set team server token command, not the PAPERCITE_TOKEN variable the words name.
export function isTokenRefusal(message: string): boolean {
  return /did not accept the token|token is needed/i.test(message);
}

// The status bar's text and tooltip for what `papercite.status` answered.
export function statusText(status: Status | undefined): { text: string; tooltip: string } {
  if (!status) return { text: "$(warning) papercite", tooltip: "papercite: the language server is not running" };
  const where = status.home ? (isUrl(status.home) ? `team server ${status.home}` : status.home) : "the default index";
  if (!status.connected) {
    const error = status.error ?? "";
    const hint = isTokenRefusal(error) ? " (papercite: Set team server token)" : "";
    return { text: "$(warning) papercite", tooltip: `papercite: ${where} is not reachable: ${error}${hint}` };
  }
  const papers = `${(status.papers ?? 0).toLocaleString("en")} papers`;
  return { text: `$(book) ${papers}`, tooltip: `papercite: ${papers} in ${where} (connected)` };
}

export function isUrl(home: string): boolean {
  return /^https?:\/\//i.test(home);
}

function expandHome(file: string, home: string): string {
  return home && (file === "~" || file.startsWith("~/")) ? home + file.slice(1) : file;
}
