// Shared by the browser scenarios: Debian's chromium through playwright-core (never a downloaded browser),
// JSON in on stdin, JSON out on stdout, screenshots into the artifacts directory.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export function input() {
  return JSON.parse(readFileSync(0, "utf8"));
}

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", ...extraArgs],
  });
}

/** A page that records console errors and uncaught exceptions into `problems`. */
export async function openPage(browser, problems) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  return { context, page };
}

export async function screenshot(page, dir, name, shots) {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
  return path;
}

export function log(...args) {
  process.stderr.write(`${args.join(" ")}\n`);
}

/** Run `scenario(args)`; print its result (or the error) as JSON; exit non-zero on failure. */
export async function run(scenario) {
  const args = input();
  try {
    const result = await scenario(args);
    process.stdout.write(JSON.stringify(result));
  } catch (error) {
    process.stdout.write(JSON.stringify({ failed: String(error && error.stack ? error.stack : error) }));
    process.exitCode = 1;
  }
}
