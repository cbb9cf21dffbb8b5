// papercite: Search papers… — a Quick Pick that searches the index as you type and cites the paper
// chosen at the cursor, in the file's syntax, adding its entry to the document's .bib.
import * as vscode from "vscode";

export interface SearchHit {
  key: string;
  title: string;
  authors: string;
  year?: number | null;
  venue?: string;
  sentence: string;
  source: string;
}

interface PaperItem extends vscode.QuickPickItem {
  key: string;
}

type Call = <T>(command: string, ...args: unknown[]) => Promise<T | undefined>;

// Typing pauses this long before a search: one request per word, not per key.
const DEBOUNCE_MS = 120;

export function renderHit(hit: SearchHit): PaperItem {
  const byline = [hit.key, hit.authors, hit.year ? String(hit.year) : "", hit.source ? `in ${hit.source}` : ""];
  return {
    key: hit.key,
    label: hit.title,
    description: byline.filter(Boolean).join(" · "),
    detail: hit.sentence,
    // The index ranks them; the Quick Pick must not filter its own way on top.
    alwaysShow: true,
  };
}

export async function searchAndCite(call: Call, serves: (document: vscode.TextDocument) => boolean): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const document = editor && serves(editor.document) ? editor.document : undefined;
  const pick = vscode.window.createQuickPick<PaperItem>();
  pick.title = document ? "papercite: Search papers to cite" : "papercite: Search papers";
  pick.placeholder = "What the paper is about: words of its title or abstract, an author, a year";
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  const selected = editor?.document.getText(editor.selection).trim();
  let latest = 0;
  let timer: NodeJS.Timeout | undefined;
  // The query the rows on show were found for, and the search for what is typed now.
  let shownFor = "";
  let pending: Promise<PaperItem[]> = Promise.resolve([]);
  const search = (value: string) => {
    const query = value.trim();
    const asked = ++latest;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!query) {
      pick.items = [];
      pick.busy = false;
      shownFor = "";
      pending = Promise.resolve([]);
      return;
    }
    pick.busy = true;
    pending = call<SearchHit[]>("papercite.search", query, 20, document?.uri.toString()).then((hits) => {
      const items = (hits ?? []).map(renderHit);
      if (asked === latest) {
        // (an older answer than the newest search is not shown)
        pick.items = items;
        pick.busy = false;
        shownFor = query;
      }
      return items;
    });
  };
  pick.onDidChangeValue((value) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => search(value), DEBOUNCE_MS);
  });
  const chosen = new Promise<PaperItem | undefined>((resolve) => {
    pick.onDidAccept(async () => {
      const query = pick.value.trim();
      if (query && query !== shownFor) {
        // Enter typed before the rows caught up with the words (typing outruns the search): the
        // rows on show are another query's, so the best paper for what was typed is cited.
        if (timer || latest === 0) search(query);
        const asked = latest;
        const items = await pending;
        resolve(asked === latest ? items[0] : pick.selectedItems[0]);
      } else {
        resolve(pick.selectedItems[0]);
      }
      pick.hide();
    });
    pick.onDidHide(() => resolve(undefined));
  });
  if (selected) {
    pick.value = selected;
    search(selected);
  }
  pick.show();
  const item = await chosen;
  pick.dispose();
  if (!item) return;
  if (!editor || !document) {
    await vscode.env.clipboard.writeText(item.key);
    void vscode.window.showInformationMessage(`papercite: copied the key ${item.key} (open a LaTeX or Markdown file to cite it there)`);
    return;
  }
  const position = editor.selection.active;
  const cited = await call<{ inserted: string; added: string[] }>(
    "papercite.cite",
    document.uri.toString(),
    { line: position.line, character: position.character },
    item.key,
  );
  if (cited) {
    const entry = cited.added.length ? ", its entry added to the bibliography" : "";
    vscode.window.setStatusBarMessage(`papercite: cited ${item.key}${entry}`, 5000);
  }
}
