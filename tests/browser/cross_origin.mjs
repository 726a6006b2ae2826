// The dashboard bundle served from another origin than the stack, configured like a deployed front end
// (absolute API and Cognito URLs, no local shortcuts): sign in with a password through Amplify, query, create
// and execute a basket, and receive its onOrderUpdate and onFill events over Amplify's real-time client.
import { launch, log, openPage, run, screenshot } from "./browser.mjs";

/** Without the SPKI allowance: the sign-in cannot reach the stack (its certificate is not trusted). */
async function untrusted({ siteUrl, username, password }) {
  const problems = [];
  const browser = await launch();
  try {
    const { page } = await openPage(browser, problems);
    await page.goto(`${siteUrl}/`);
    await page.getByTestId("signin-username").fill(username);
    await page.locator('input[type="password"]').fill(password);
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("error").first().waitFor();
    return { errors: await page.getByTestId("error").allInnerTexts(), problems };
  } finally {
    await browser.close();
  }
}

run(async (args) => (args.untrusted ? untrusted(args) : signInQueryAndSubscribe(args)));

async function signInQueryAndSubscribe({ siteUrl, stackUrl, username, password, spki, artifacts, label }) {
  const problems = [];
  const shots = [];
  // --ignore-certificate-errors-spki-list: trust exactly the stack's server key (its CA is not installed)
  const browser = await launch(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : []);
  try {
    const { page } = await openPage(browser, problems);
    const origins = new Set();
    const sockets = [];
    page.on("request", (request) => origins.add(new URL(request.url()).origin));
    page.on("websocket", (socket) => sockets.push(socket.url().split("?")[0]));
    await page.goto(`${siteUrl}/`);
    await page.getByTestId("signin-username").fill(username);
    await page.locator('input[type="password"]').fill(password);
    await page.getByTestId("signin-submit").click();
    await page.locator('[data-testid="basket-list"], [data-testid="error"]').first().waitFor();
    const refused = await page.getByTestId("error").allInnerTexts();
    if (refused.length) throw new Error(`sign-in failed: ${refused.join(" | ")} ${problems.join(" | ")}`);
    const signedInAs = await page.getByTestId("signed-in-as").innerText();
    await page.getByTestId("connection").filter({ hasText: "Live updates: connected" }).waitFor();
    log(label, "signed in as", signedInAs);

    await page.getByTestId("template").selectOption("nifty-iron-condor");
    await page.getByTestId("create-basket").click();
    await page.getByTestId("basket-status").filter({ hasText: "DRAFT" }).waitFor();
    const basketId = await page.locator('[data-testid="basket-item"].selected').getAttribute("data-basket-id");
    await page.getByTestId("execute-basket").click();
    await page.getByTestId("basket-status").filter({ hasText: "LIVE" }).waitFor();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="order"]')];
        return rows.length === 4 && rows.every((row) => row.dataset.status === "COMPLETE");
      },
      null,
      { timeout: 30000 },
    );
    await page.getByTestId("fill").nth(3).waitFor({ timeout: 30000 });
    const fills = await page.getByTestId("fill").allInnerTexts();
    const orders = await page.getByTestId("order").evaluateAll((rows) => rows.map((r) => r.dataset.status));
    const connection = await page.getByTestId("connection").innerText();
    await screenshot(page, artifacts, `cross-origin-${label}`, shots);
    await page.getByTestId("exit-basket").click();
    try {
      await page.getByTestId("basket-status").filter({ hasText: "CLOSED" }).waitFor({ timeout: 60000 });
    } catch (error) {
      const status = await page.getByTestId("basket-status").innerText();
      const rows = await page.getByTestId("order").evaluateAll((r) => r.map((row) => row.dataset.status));
      const shown = await page.getByTestId("error").allInnerTexts();
      await screenshot(page, artifacts, `cross-origin-${label}-exit`, shots);
      throw new Error(`exit: basket ${status}, orders ${rows.join(",")}, errors ${shown.join(" | ")}: ${error.message}`);
    }
    return {
      pageOrigin: new URL(page.url()).origin,
      stackOrigin: new URL(stackUrl).origin,
      origins: [...origins],
      sockets: [...new Set(sockets)],
      signedInAs,
      session: await page.evaluate(() => JSON.parse(window.sessionStorage.getItem("basketgraph:session"))),
      basketId,
      orders,
      fills,
      connection,
      errors: await page.getByTestId("error").allInnerTexts(),
      problems,
      screenshots: shots,
    };
  } finally {
    await browser.close();
  }
}
