// GraphiQL in a real browser: the saved examples run a query, create and execute a basket, and an onPnl
// subscription ticks while prices move.
import { launch, log, openPage, run, screenshot } from "./browser.mjs";

async function editorValue(page, selector) {
  return page.locator(`${selector} .CodeMirror`).first().evaluate((el) => el.CodeMirror.getValue());
}

async function setEditor(page, selector, value) {
  await page.locator(`${selector} .CodeMirror`).first().evaluate((el, text) => el.CodeMirror.setValue(text), value);
}

const RESPONSE = ".graphiql-response";
const VARIABLES = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';

// GraphiQL parses the query editor 100 ms after its text changes (a tab switch included), and only then
// does the execute button become a menu (several operations) or a plain button (one). A click before
// that lands on the previous tab's button: a menu nobody picks from, so nothing runs. So wait until
// the editor's parsed operations are the ones its text names and the button has been drawn for them.
async function settled(page) {
  await page.waitForFunction(() => {
    const cm = document.querySelector(".graphiql-query-editor .CodeMirror")?.CodeMirror;
    const button = document.querySelector(".graphiql-execute-button");
    if (!cm || !button || !cm.operations) return false;
    const named = [...cm.getValue().matchAll(/\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g)].map((m) => m[1]);
    const parsed = cm.operations.map((op) => op.name && op.name.value);
    const menu = button.getAttribute("aria-haspopup") === "menu";
    return named.join() === parsed.join() && menu === parsed.length > 1;
  });
}

async function openTab(page, title) {
  await page.locator(".graphiql-tab-button", { hasText: new RegExp(`^${title}$`) }).click();
  await page.waitForFunction(
    (name) => {
      const active = document.querySelector(".graphiql-tab-active .graphiql-tab-button");
      return active && active.textContent.trim() === name;
    },
    title,
  );
  await settled(page);
}

/** Run the active tab's operation (`operation` names it when the tab holds several) and wait for `until`. */
async function execute(page, until, operation) {
  await settled(page);
  const button = page.locator(".graphiql-execute-button");
  const menu = (await button.getAttribute("aria-haspopup")) === "menu";
  if (menu && !operation) throw new Error("the tab holds several operations: name the one to run");
  await button.click();
  if (menu) await page.getByRole("menuitem", { name: operation, exact: true }).click();
  const deadline = Date.now() + 20000;
  for (;;) {
    const text = await editorValue(page, RESPONSE);
    if (until(text)) return text;
    if (Date.now() > deadline) throw new Error(`no expected response; last: ${text.slice(0, 500)}`);
    await page.waitForTimeout(100);
  }
}

async function scenario({ baseUrl, artifacts }) {
  const problems = [];
  const shots = [];
  const browser = await launch();
  try {
    const { page } = await openPage(browser, problems);
    await page.goto(`${baseUrl}/graphql`);
    await page.locator(".graphiql-container").waitFor();
    await page.locator(".graphiql-tab-button").first().waitFor();
    const tabs = await page.locator(".graphiql-tab-button").allInnerTexts();
    log("tabs", tabs.join(", "));

    // A query
    await openTab(page, "Me");
    const me = JSON.parse(await execute(page, (t) => t.includes('"username"'), "Me"));
    await screenshot(page, artifacts, "graphiql-1-query", shots);

    // The saved mutations: create a basket, then execute it
    await openTab(page, "CreateBasket");
    const created = JSON.parse(await execute(page, (t) => t.includes('"createBasket"') || t.includes('"errors"')));
    const basketId = created.data.createBasket.id;
    await openTab(page, "ExecuteBasket");
    const variables = JSON.parse(await editorValue(page, VARIABLES));
    await setEditor(page, VARIABLES, JSON.stringify({ ...variables, basketId, clientRequestId: `browser-${basketId}` }, null, 2));
    const executed = JSON.parse(await execute(page, (t) => t.includes('"executeBasket"') || t.includes('"errors"')));
    await screenshot(page, artifacts, "graphiql-2-executed", shots);

    // The subscription: every response the editor shows while prices move
    await openTab(page, "WatchPnl");
    const ownerId = JSON.parse(await editorValue(page, VARIABLES)).ownerId;
    await setEditor(page, VARIABLES, JSON.stringify({ ownerId, basketId }, null, 2)); // just this basket
    await settled(page);
    await page.locator(".graphiql-execute-button").click();
    const events = [];
    const deadline = Date.now() + 25000;
    while (Date.now() < deadline) {
      const text = await editorValue(page, RESPONSE);
      if (text.includes('"onPnl"')) {
        const event = JSON.parse(text).data.onPnl;
        const last = events[events.length - 1];
        if (!last || last.asOf !== event.asOf || last.pnl !== event.pnl) events.push(event);
        if (events.length >= 4) break;
      }
      await page.waitForTimeout(100);
    }
    await screenshot(page, artifacts, "graphiql-3-onpnl", shots);
    await page.locator(".graphiql-execute-button").click(); // stop the subscription

    // The Examples panel opens an example in a new tab
    await page.locator('button[aria-label="Show Examples"]').click();
    await page.locator('[data-example="WatchOrders"]').click();
    await page.waitForFunction(() => {
      const editor = document.querySelector(".graphiql-query-editor .CodeMirror");
      const active = document.querySelector(".graphiql-tab-active .graphiql-tab-button");
      return editor && editor.CodeMirror.getValue().includes("onOrderUpdate") && active && active.textContent.trim() === "WatchOrders";
    });
    const tabsAfter = await page.locator(".graphiql-tab-button").allInnerTexts();
    await screenshot(page, artifacts, "graphiql-4-examples", shots);
    return { tabs, me, basketId, executed, ownerId, events, tabsAfter, problems, screenshots: shots };
  } finally {
    await browser.close();
  }
}

run(scenario);
