// Drives a real VS Code (code-server) in Debian's Chromium through the steps tests/e2e/test_vscode.py
// gives, the way a user would: keys, clicks, and what the screen then shows.
//
// Input (environment): PAPERCITE_VSCODE_URL, PAPERCITE_CHROMIUM, PAPERCITE_VSCODE_STEPS (JSON list),
// PAPERCITE_VSCODE_OUT (the report: {results: [...], error?}), PAPERCITE_VSCODE_SHOTS (a folder for
// screenshots: one per `screenshot` step, and one of the screen when a step fails).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const STEP_TIMEOUT = 20000;

// Inputs are typed into the DOM; VS Code renders spaces in editor lines as no-break spaces.
const text = (value) => (value || "").replace(/\u00a0/g, " ").trim();

async function visibleRows(page, selector) {
  return page.locator(selector).evaluateAll((rows) =>
    rows
      .filter((row) => row.offsetParent !== null)
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((row) => ({ aria: row.getAttribute("aria-label") || "", text: row.textContent || "" })),
  );
}

async function waitForRows(page, selector, step) {
  const deadline = Date.now() + (step.timeout || STEP_TIMEOUT);
  let rows = [];
  while (Date.now() < deadline) {
    rows = await visibleRows(page, selector);
    const wanted = step.until;
    if (rows.length && (!wanted || rows.some((row) => (row.aria + row.text).includes(wanted)))) break;
    await page.waitForTimeout(100);
  }
  if (step.until && !rows.some((row) => (row.aria + row.text).includes(step.until))) {
    throw new Error(`no row holds ${JSON.stringify(step.until)}; rows: ${JSON.stringify(rows.map((r) => text(r.text)))}`);
  }
  return rows.map((row) => ({ aria: text(row.aria), text: text(row.text) }));
}

async function quickInput(page, value) {
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await input.fill("");
  await page.keyboard.type(value);
}

// Enter in a quick input, and wait until it has closed and given the keys back.
async function accept(page) {
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: STEP_TIMEOUT });
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  await quickInput(page, `>${title}`);
  const row = page.locator(".quick-input-widget .monaco-list-row.focused", { hasText: title });
  await row.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await page.keyboard.press("Enter");
  // The palette closes, or gives its place to the command's own Quick Pick or input box.
  const input = page.locator(".quick-input-widget .quick-input-box input");
  const deadline = Date.now() + STEP_TIMEOUT;
  while ((await input.isVisible()) && (await input.inputValue()).startsWith(">")) {
    if (Date.now() > deadline) throw new Error(`the command palette stayed open after ${title}`);
    await page.waitForTimeout(50);
  }
}

async function statusText(page, id) {
  return text(await page.locator(`[id="${id}"]`).first().textContent({ timeout: STEP_TIMEOUT }));
}

// Move down the open action menu to the action whose title starts with `title`, and apply it.
async function chooseAction(page, title) {
  const focused = page.locator(".action-widget .monaco-list-row.action.focused");
  for (let tries = 0; tries < 30; tries++) {
    const label = (await focused.count()) ? await focused.first().getAttribute("aria-label") : "";
    if ((label || "").startsWith(title)) {
      await page.keyboard.press("Enter");
      await page.locator(".action-widget").first().waitFor({ state: "hidden", timeout: STEP_TIMEOUT });
      return;
    }
    await page.keyboard.press("ArrowDown");
    await page.waitForTimeout(50);
  }
  throw new Error(`no action starts with ${JSON.stringify(title)}`);
}

async function openWorkbench(page, url) {
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60000 });
  // The workbench takes keys once its editor area is there.
  await page.locator(".part.editor").waitFor({ state: "visible", timeout: 60000 });
}

const OPS = {
  // Open a workspace file by name through Quick Open, and wait for its editor.
  async open(page, step) {
    await page.keyboard.press("Control+P");
    await quickInput(page, step.name);
    await page
      .locator(".quick-input-widget .monaco-list-row.focused", { hasText: step.name })
      .waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    await accept(page);
    await page
      .locator(".tab.active", { hasText: step.name })
      .waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    await page.locator(".editor-group-container.active .monaco-editor textarea").first().focus();
    return {};
  },
  // Put the cursor on a line (1-based), at a column or at its end (`end: true`).
  async goto(page, step) {
    await page.keyboard.press("Control+G");
    await quickInput(page, step.column ? `:${step.line}:${step.column}` : `:${step.line}`);
    await accept(page);
    if (step.end) await page.keyboard.press("End");
    return { cursor: await statusText(page, "status.editor.selection") };
  },
  async type(page, step) {
    await page.keyboard.type(step.text, { delay: 20 });
    return {};
  },
  async press(page, step) {
    for (const key of step.keys) await page.keyboard.press(key);
    return {};
  },
  // Wait until an element is on the screen (the extension's status bar item: it is active).
  async visible(page, step) {
    await page.locator(step.selector).first().waitFor({ state: "visible", timeout: step.timeout || STEP_TIMEOUT });
    return {};
  },
  async wait(page, step) {
    await page.waitForTimeout(step.ms);
    return {};
  },
  // The rows of the completion list, top first (the first one is focused and shows its detail).
  async suggest(page, step) {
    return { rows: await waitForRows(page, ".suggest-widget.visible .monaco-list-row", step) };
  },
  async hover(page, step) {
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    // A hover shows the diagnostics at the cursor and each provider's part; `until` picks the part.
    // (A string would match case-insensitively: the diagnostic part names the key in lower case.)
    const part = page.locator(".monaco-hover-content", { hasText: new RegExp(step.until || "") }).first();
    await part.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    const value = text(await part.textContent());
    await page.keyboard.press("Escape");
    return { text: value };
  },
  // The Problems panel's rows, once one holds `until`.
  async problems(page, step) {
    await runCommand(page, "View: Focus Problems");
    const rows = await waitForRows(page, ".markers-panel .monaco-list-row", step);
    return { rows };
  },
  // Open the light bulb's menu at the cursor, by clicking the bulb, and choose the action whose title
  // starts with `choose`. VS Code sometimes draws no bulb after a cursor move that raced the
  // diagnostics; then its key (Ctrl+.) opens the same menu, and `via` says so.
  async lightbulb(page, step) {
    const bulb = page
      .locator(".editor-group-container.active :is(.glyph-margin-widgets [class*='lightbulb'], .lightBulbWidget)")
      .filter({ visible: true })
      .first();
    let via = "bulb";
    try {
      await bulb.waitFor({ state: "visible", timeout: 5000 });
      await bulb.click();
    } catch {
      via = "Ctrl+.";
      await page.keyboard.press("Control+.");
    }
    return { via, ...(await OPS.lightbulb_menu(page, step)) };
  },
  // The code action menu that is open (from the light bulb, or a key binding): its rows, then choose.
  async lightbulb_menu(page, step) {
    const rows = await waitForRows(page, ".action-widget .monaco-list-row.action", step);
    if (step.choose) await chooseAction(page, step.choose);
    return { rows };
  },
  async command(page, step) {
    await runCommand(page, step.title);
    return {};
  },
  // Type into the open Quick Pick or input box; its rows once one holds `until`; then Enter if asked.
  async quickpick(page, step) {
    if (step.value !== undefined) await quickInput(page, step.value);
    const rows = step.until === undefined ? [] : await waitForRows(page, ".quick-input-widget .monaco-list-row", step);
    const message = (await page.locator(".quick-input-widget .quick-input-message").allTextContents()).map(text);
    if (step.accept) await accept(page);
    return { rows, message };
  },
  // The messages of the notification toasts showing now, once one holds `until`.
  async notifications(page, step) {
    const rows = await waitForRows(page, ".notifications-toasts .notification-list-item", step);
    return { rows };
  },
  async status(page, step) {
    const rows = await waitForRows(page, ".statusbar-item", step);
    return { rows };
  },
  // The active editor's name and cursor.
  async where(page) {
    const tab = text(await page.locator(".tab.active .label-name").first().textContent());
    return { tab, cursor: await statusText(page, "status.editor.selection") };
  },
  async save(page) {
    await runCommand(page, "File: Save All Files");
    await page.waitForTimeout(300);
    return {};
  },
  async read(page, step) {
    return { text: fs.readFileSync(step.path, "utf8") };
  },
  // Load another folder's window (`url`), as File: Open Folder does: a new extension host.
  async navigate(page, step) {
    await openWorkbench(page, step.url);
    return {};
  },
  // Write a file as another program would (settings.json, edited by hand or synced).
  async write(page, step) {
    fs.writeFileSync(step.path, step.text);
    return {};
  },
  // Send a process a signal: SIGSTOP makes a server stop answering, as a dropped network does.
  async signal(page, step) {
    process.kill(step.pid, step.signal);
    return {};
  },
  // Click a button of the notification toast that holds `until`.
  async notification_button(page, step) {
    const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: step.until }).first();
    await toast.waitFor({ state: "visible", timeout: step.timeout || STEP_TIMEOUT });
    await toast.locator(".monaco-button", { hasText: step.button }).first().click();
    return {};
  },
  // The visible elements matching `selector` (their aria-label and text), once one holds `until`.
  async rows(page, step) {
    return { rows: await waitForRows(page, step.selector, step) };
  },
  // The whole window, or one part of it (`selector`).
  async screenshot(page, step, shots) {
    const file = path.join(shots, `${step.name}.png`);
    if (step.selector) await page.locator(step.selector).first().screenshot({ path: file });
    else await page.screenshot({ path: file });
    return { file };
  },
};

async function main() {
  const steps = JSON.parse(process.env.PAPERCITE_VSCODE_STEPS);
  const shots = process.env.PAPERCITE_VSCODE_SHOTS;
  const report = { results: [] };
  const browser = await chromium.launch({
    executablePath: process.env.PAPERCITE_CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT);
  let index = -1;
  try {
    await openWorkbench(page, process.env.PAPERCITE_VSCODE_URL);
    for (index = 0; index < steps.length; index++) {
      const step = steps[index];
      const started = Date.now();
      const result = await OPS[step.op](page, step, shots);
      report.results.push({ op: step.op, ms: Date.now() - started, ...result });
    }
  } catch (error) {
    const step = steps[index];
    report.error = `step ${index} (${step ? JSON.stringify(step) : "start"}): ${error.stack || error}`;
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `failed-step-${index}.png`) }).catch(() => undefined);
    const html = await page.content().catch(() => "");
    fs.writeFileSync(path.join(shots, `failed-step-${index}.html`), html);
  } finally {
    fs.writeFileSync(process.env.PAPERCITE_VSCODE_OUT, JSON.stringify(report, null, 1));
    await browser.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

module.exports = { OPS };
