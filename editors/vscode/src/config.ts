// What the extension asks of papercite: pure functions of the settings, so they run (and are
// tested) under plain Node, without VS Code.

export interface Settings {
  path?: string;
  home?: string;
  maxItems?: number;
  contextWindow?: number;
  diagnostics?: boolean;
}

export interface ServerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

// VS Code's language ids for the files papercite serves; `bibtex` so that edits to an open .bib
// go through the editor and its changes are seen before they are saved.
export const LANGUAGES = ["latex", "tex", "markdown", "quarto", "myst", "rmd", "bibtex"];

export function documentSelector(): { scheme: string; language: string }[] {
  return LANGUAGES.map((language) => ({ scheme: "file", language }));
}

export function serverCommand(settings: Settings, environment: Record<string, string | undefined>): ServerCommand {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined) env[name] = value;
  }
  const home = (settings.home ?? "").trim();
  if (home) env.PAPERCITE_HOME = expandHome(home, env.HOME ?? env.USERPROFILE ?? "");
  const command = (settings.path ?? "").trim() || "papercite";
  return { command: expandHome(command, env.HOME ?? env.USERPROFILE ?? ""), args: ["lsp"], env };
}

// The server's own settings (it reads the same names from workspace/configuration later).
export function initializationOptions(settings: Settings): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (settings.maxItems !== undefined) options.maxItems = settings.maxItems;
  if (settings.contextWindow !== undefined) options.contextWindow = settings.contextWindow;
  if (settings.diagnostics !== undefined) options.diagnostics = settings.diagnostics;
  return options;
}

// Settings whose change needs a new server process rather than a configuration update.
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed("papercite.path") || changed("papercite.home");
}

function expandHome(path: string, home: string): string {
  return home && (path === "~" || path.startsWith("~/")) ? home + path.slice(1) : path;
}
