// The dashboard in a real browser: sign in, create from a template, execute, watch it live, exit.
import { launch, log, openPage, run, screenshot } from "./browser.mjs";

const text = (page, testId) => page.getByTestId(testId).innerText();
const texts = (page, testId) => page.getByTestId(testId).allInnerTexts();

/** What a trader reads off the selected basket: amounts, lots, strategy groups, orders, the chart's scale. */
async function readBasket(page) {
  // a leg shows "—" until a P&L that includes it has arrived, and a later update can re-render the rows: the
  // groups are read in the same step that sees every leg with a figure
  const complete = await page.waitForFunction(() => {
    const groups = [...document.querySelectorAll('[data-testid="strategy-group"]')].map((g) => ({
      name: g.dataset.strategyName,
      pnl: g.querySelector('[data-testid="strategy-pnl"]').innerText,
      rows: [...g.querySelectorAll('[data-testid="position-pnl"]')].map((r) => r.innerText),
    }));
    const cells = groups.flatMap((g) => g.rows);
    const ready = cells.length === 4 && cells.every((c) => c.includes("₹")) && groups.every((g) => g.pnl.includes("₹"));
    return ready ? groups : null;
  });
  const groups = await complete.jsonValue();
  const chart = page.getByTestId("pnl-chart");
  return {
    money: await page.locator("main .money").allInnerTexts(),
    positionQuantities: await texts(page, "position-quantity"),
    buyValues: await texts(page, "position-buy-value"),
    groups,
    orderRows: await page.getByTestId("order").evaluateAll((rows) =>
      rows.map((r) => ({
        time: r.querySelector('[data-testid="order-time"]').innerText,
        product: r.querySelector('[data-testid="order-product"]').innerText,
        type: r.querySelector('[data-testid="order-type"]').innerText,
        quantity: r.querySelector('[data-testid="order-quantity"]').innerText,
        brokerOrderId: r.querySelector('[data-testid="broker-order-id"]').innerText,
      })),
    ),
    fillIds: await page.getByTestId("fill").evaluateAll((rows) => rows.map((r) => r.dataset.tradeId)),
    chart: {
      points: Number(await chart.getAttribute("data-points")),
      yMin: Number(await chart.getAttribute("data-y-min")),
      yMax: Number(await chart.getAttribute("data-y-max")),
    },
    caption: await text(page, "pnl-caption"),
    pnl: await text(page, "pnl-value"),
  };
}

async function chartPixels(page) {
  return page.getByTestId("pnl-chart").locator("canvas").evaluate((canvas) => canvas.toDataURL());
}

async function live({ baseUrl, artifacts }) {
  const problems = [];
  const shots = [];
  const browser = await launch();
  try {
    const { page } = await openPage(browser, problems);
    await page.goto(`${baseUrl}/`);
    await page.getByTestId("signin-username").fill("demo");
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("basket-list").waitFor();
    const signedInAs = await text(page, "signed-in-as");
    log("signed in as", signedInAs);

    await page.getByTestId("template").selectOption("nifty-iron-condor");
    await page.getByTestId("create-basket").click();
    await page.getByTestId("basket-status").filter({ hasText: "DRAFT" }).waitFor();
    const created = await text(page, "basket-name");
    const listed = await page.getByTestId("basket-item").allInnerTexts();
    await screenshot(page, artifacts, "dashboard-1-draft", shots);

    await page.getByTestId("execute-basket").click();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="order"]')];
        return rows.length === 4 && rows.every((row) => row.dataset.status === "COMPLETE");
      },
      null,
      { timeout: 20000 },
    );
    await page.getByTestId("fill").nth(3).waitFor();
    await page.getByTestId("position").nth(3).waitFor();
    const orders = await page.getByTestId("order").evaluateAll((rows) => rows.map((r) => r.dataset.status));
    const fills = await page.getByTestId("fill").allInnerTexts();
    const positions = await page.getByTestId("position").allInnerTexts();
    const basketId = await page.evaluate(() => decodeURIComponent(window.location.hash.replace("#basket=", "")));
    await page.getByTestId("lot-hint").filter({ hasText: "Lot size 65" }).waitFor();
    const lotHint = await text(page, "lot-hint");
    await page.locator('[data-testid="place-order"] [name="quantity"]').fill("130");
    await page.getByTestId("lot-hint").filter({ hasText: "2 lots" }).waitFor();
    const lotHintTyped = await text(page, "lot-hint");
    await page.locator('[data-testid="place-order"] [name="quantity"]').fill("");
    const listItem = page.locator(`[data-basket-id="${basketId}"] [data-testid="basket-pnl"]`);
    await listItem.filter({ hasText: "₹" }).waitFor();
    const listPnl = await listItem.innerText();
    const read = await readBasket(page);

    // The chart grows as onPnl ticks arrive while prices move.
    const before = {
      points: Number(await page.getByTestId("pnl-chart").getAttribute("data-points")),
      value: await text(page, "pnl-value"),
      pixels: await chartPixels(page),
    };
    await page.waitForFunction(
      (start) => Number(document.querySelector('[data-testid="pnl-chart"]').dataset.points) >= start + 5,
      before.points,
      { timeout: 20000 },
    );
    const values = new Set([before.value]);
    const deadline = Date.now() + 15000;
    while (values.size < 3 && Date.now() < deadline) {
      values.add(await text(page, "pnl-value"));
      await page.waitForTimeout(200);
    }
    const after = {
      points: Number(await page.getByTestId("pnl-chart").getAttribute("data-points")),
      value: await text(page, "pnl-value"),
      pixels: await chartPixels(page),
    };
    const connection = await text(page, "connection");
    await screenshot(page, artifacts, "dashboard-2-live", shots);

    // A reload shows the trade book and a chart with history, without watching anything live.
    await page.reload();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    await page.getByTestId("fill").nth(3).waitFor();
    await page.getByTestId("position").nth(3).waitFor();
    await page.locator('[data-testid="pnl-chart"][data-points]:not([data-points="0"]):not([data-points="1"])').waitFor();
    await page.locator(`[data-basket-id="${basketId}"] [data-testid="basket-pnl"]`).filter({ hasText: "₹" }).waitFor();
    const reloaded = await readBasket(page);
    reloaded.fills = await page.getByTestId("fill").allInnerTexts();
    reloaded.listPnl = await page.locator(`[data-basket-id="${basketId}"] [data-testid="basket-pnl"]`).innerText();
    await screenshot(page, artifacts, "dashboard-2b-reloaded", shots);

    await page.getByTestId("exit-basket").click();
    await page.getByTestId("basket-status").filter({ hasText: "CLOSED" }).waitFor({ timeout: 20000 });
    const exitOrders = await page.getByTestId("order").evaluateAll((rows) => rows.map((r) => r.dataset.status));
    await screenshot(page, artifacts, "dashboard-3-closed", shots);
    return {
      signedInAs,
      basketId,
      lotHint,
      lotHintTyped,
      listPnl,
      read,
      reloaded,
      created,
      listed,
      orders,
      fills,
      positions,
      chart: { before: before.points, after: after.points, changed: before.pixels !== after.pixels },
      pnlValues: [...values],
      connection,
      exitOrders,
      errors: await page.getByTestId("error").allInnerTexts(),
      problems,
      screenshots: shots,
    };
  } finally {
    await browser.close();
  }
}

async function errors({ baseUrl, artifacts, basketId, expiredSession, expiringSession, otherUser, quietExit }) {
  const problems = [];
  const shots = [];
  const browser = await launch();
  try {
    // A rejected order and an invalid one, in a LIVE basket.
    const { page } = await openPage(browser, problems);
    await page.goto(`${baseUrl}/`);
    await page.getByTestId("signin-username").fill("demo");
    await page.getByTestId("signin-submit").click();
    // Before any basket is opened, the list shows each traded basket's P&L (one aliased query at sign-in).
    await page.waitForFunction(() => {
      const list = document.querySelector('[data-testid="basket-list"]');
      const items = [...document.querySelectorAll('[data-testid="basket-item"]')];
      return (
        list !== null &&
        list.dataset.state === "ready" &&
        items.length > 0 &&
        items.every((i) => i.querySelector(".status").innerText === "DRAFT" || i.querySelector('[data-testid="basket-pnl"]').innerText.includes("₹"))
      );
    });
    const listPnl = await page.getByTestId("basket-item").evaluateAll((items) =>
      items.map((i) => ({
        id: i.dataset.basketId,
        status: i.querySelector(".status").innerText,
        pnl: i.querySelector('[data-testid="basket-pnl"]')?.innerText ?? null,
      })),
    );
    await page.locator(`[data-basket-id="${basketId}"]`).click();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    const form = page.getByTestId("place-order");
    await form.locator('[name="instrument"]').selectOption("NFO:NIFTY26DEC26500CE");
    await form.locator('[name="side"]').selectOption("BUY");
    await form.locator('[name="quantity"]').fill("65");
    await form.locator('[name="orderType"]').selectOption("SL");
    await form.locator('[name="price"]').fill("100.00");
    await form.locator('[name="triggerPrice"]').fill("120.00");
    await page.getByTestId("place-order-submit").click();
    await page.getByTestId("error").first().waitFor();
    await page.locator('[data-testid="order"][data-status="REJECTED"]').first().waitFor();
    const rejected = await page.getByTestId("error").allInnerTexts();
    const statusMessages = await texts(page, "order-status-message");
    const rejectedRows = await page.getByTestId("order").evaluateAll((rows) =>
      rows.filter((r) => r.dataset.status === "REJECTED").map((r) => r.innerText),
    );

    await form.locator('[name="orderType"]').selectOption("MARKET");
    await form.locator('[name="price"]').fill("");
    await form.locator('[name="triggerPrice"]').fill("");
    await form.locator('[name="quantity"]').fill("10");
    await page.getByTestId("place-order-submit").click();
    await page.getByTestId("error").nth(rejected.length).waitFor();
    const invalid = (await page.getByTestId("error").allInnerTexts()).slice(rejected.length);
    await screenshot(page, artifacts, "dashboard-4-rejected", shots);

    // Risk limits: a negative max loss is refused with a message; a good one is saved and still there after a reload.
    const seenErrors = (await page.getByTestId("error").allInnerTexts()).length;
    const settingsBefore = await text(page, "basket-settings");
    await page.getByTestId("edit-settings").click();
    await page.locator('[data-testid="settings-form"] [name="maxLoss"]').fill("-5");
    await page.getByTestId("save-settings").click();
    await page.getByTestId("error").nth(seenErrors).waitFor();
    const badMaxLoss = (await page.getByTestId("error").allInnerTexts()).slice(seenErrors);
    await page.locator('[data-testid="settings-form"] [name="maxLoss"]').fill("1,50,000");
    await page.getByTestId("save-settings").click();
    await page.getByTestId("risk-max-loss").filter({ hasText: "₹1,50,000.00" }).waitFor();
    const saved = await page.getByTestId("notice").allInnerTexts();
    await screenshot(page, artifacts, "dashboard-4b-max-loss", shots);
    await page.reload();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    const maxLossAfterReload = await text(page, "risk-max-loss");
    const targetAfterReload = await text(page, "risk-target");

    // The schedule: an exit before the session opens is refused; one inside it is saved and shown after a reload.
    await page.getByTestId("edit-settings").click();
    await page.locator('[data-testid="settings-form"] [name="exitAt"]').fill("08:00");
    await page.getByTestId("save-settings").click();
    await page.getByTestId("error").first().waitFor();
    const badExit = await page.getByTestId("error").allInnerTexts();
    await page.locator('[data-testid="settings-form"] [name="exitAt"]').fill(quietExit);
    await page.getByTestId("save-settings").click();
    await page.getByTestId("schedule-exit").filter({ hasText: `${quietExit} IST` }).waitFor();
    await page.reload();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    const exitAfterReload = await text(page, "schedule-exit");
    const maxLossAfterSchedule = await text(page, "risk-max-loss");

    // A session whose token has expired: the dashboard says so and asks to sign in again.
    const expired = await openPage(browser, problems);
    await expired.context.addInitScript((session) => {
      window.sessionStorage.setItem("basketgraph:session", JSON.stringify(session));
    }, expiredSession);
    await expired.page.goto(`${baseUrl}/`);
    await expired.page.getByTestId("error").first().waitFor();
    await expired.page.getByTestId("signin-username").waitFor();
    const expiredMessages = await expired.page.getByTestId("error").allInnerTexts();
    await screenshot(expired.page, artifacts, "dashboard-5-expired-token", shots);

    // A session close to expiry is renewed before it lapses, and the dashboard keeps working with the new token.
    const renewing = await openPage(browser, problems);
    await renewing.context.addInitScript((session) => {
      if (!window.sessionStorage.getItem("basketgraph:session")) {
        window.sessionStorage.setItem("basketgraph:session", JSON.stringify(session));
      }
    }, expiringSession);
    await renewing.page.goto(`${baseUrl}/`);
    await renewing.page.getByTestId("basket-list").waitFor();
    await renewing.page.waitForFunction(
      (old) => JSON.parse(window.sessionStorage.getItem("basketgraph:session")).token !== old,
      expiringSession.token,
      { timeout: 20000 },
    );
    const renewed = await renewing.page.evaluate(() => JSON.parse(window.sessionStorage.getItem("basketgraph:session")));
    await renewing.page.locator(`[data-basket-id="${basketId}"]`).click();
    await renewing.page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    const renewedErrors = await renewing.page.getByTestId("error").allInnerTexts();

    // Another user signs in: none of the demo user's baskets are theirs to see.
    // Their basket list is held back once, to see that loading is not shown as empty.
    const other = await openPage(browser, problems);
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    await other.page.route("**/*", async (route) => {
      const request = route.request();
      if (request.method() === "POST" && (request.postData() || "").includes("query Baskets")) await held;
      await route.continue();
    });
    await other.page.goto(`${baseUrl}/`);
    await other.page.getByTestId("signin-username").fill(otherUser);
    await other.page.getByTestId("signin-submit").click();
    await other.page.getByTestId("baskets-loading").waitFor();
    await screenshot(other.page, artifacts, "dashboard-6a-loading", shots);
    const whileLoading = {
      text: await other.page.getByTestId("basket-list").innerText(),
      empty: await other.page.getByTestId("baskets-empty").count(),
    };
    release();
    await other.page.getByTestId("baskets-empty").waitFor();
    const loaded = {
      text: await other.page.getByTestId("basket-list").innerText(),
      loading: await other.page.getByTestId("baskets-loading").count(),
    };
    await other.page.getByTestId("connection").filter({ hasText: "connected" }).waitFor();
    const otherBaskets = await other.page.getByTestId("basket-item").evaluateAll((items) => items.map((i) => i.dataset.basketId));
    const otherSignedIn = await other.page.getByTestId("signed-in-as").innerText();
    await screenshot(other.page, artifacts, "dashboard-6-other-user", shots);
    const otherErrors = await other.page.getByTestId("error").allInnerTexts();
    // A link to the demo user's basket opened by another user: not found, and not left "Loading basket…"
    await other.page.goto(`${baseUrl}/#basket=${encodeURIComponent(basketId)}`);
    await other.page.reload();
    await other.page.getByTestId("error").first().waitFor();
    await other.page.getByText("Select or create a basket.").waitFor();
    const foreignLink = {
      errors: await other.page.getByTestId("error").allInnerTexts(),
      loading: await other.page.getByTestId("basket-loading").count(),
      hash: await other.page.evaluate(() => window.location.hash),
    };
    return {
      rejected,
      rejectedRows,
      statusMessages,
      listPnl,
      invalid,
      settingsBefore,
      badMaxLoss,
      saved,
      maxLossAfterReload,
      targetAfterReload,
      badExit,
      exitAfterReload,
      maxLossAfterSchedule,
      whileLoading,
      loaded,
      expired: expiredMessages,
      renewed: { token: renewed.token, expiresAt: renewed.expiresAt },
      renewedErrors,
      otherBaskets,
      otherSignedIn,
      otherErrors,
      foreignLink,
      problems,
      screenshots: shots,
    };
  } finally {
    await browser.close();
  }
}

run(async (args) => (args.scenario === "errors" ? errors(args) : live(args)));
