// A leg's stop-loss on the dashboard: shown on the basket page, and moving live (onRiskState) as it trails.
import { launch, openPage, run, screenshot } from "./browser.mjs";

async function trailing({ baseUrl, artifacts, username, basketId, symbol, prices, expected }) {
  const problems = [];
  const shots = [];
  const browser = await launch();
  try {
    const { page } = await openPage(browser, problems);
    await page.goto(`${baseUrl}/#basket=${encodeURIComponent(basketId)}`);
    await page.getByTestId("signin-username").fill(username);
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("connection").filter({ hasText: "connected" }).waitFor();
    const stop = page.getByTestId("leg-stop-loss");
    await stop.filter({ hasText: expected[0] }).waitFor();
    const before = await stop.innerText();
    await screenshot(page, artifacts, "leg-risk-1-set", shots);
    // the market rises: the stop trails, and the page hears it without a reload
    const seen = [before];
    for (const price of prices) {
      const reply = await fetch(`${baseUrl}/local/prices`, { method: "POST", body: JSON.stringify({ [symbol]: price }) });
      if (!reply.ok) throw new Error(`moving the market: ${reply.status}`);
    }
    await stop.filter({ hasText: expected[1] }).waitFor({ timeout: 60000 });
    seen.push(await stop.innerText());
    await screenshot(page, artifacts, "leg-risk-2-trailed", shots);
    return { seen, peak: await page.getByTestId("leg-peak").innerText(), problems, screenshots: shots };
  } finally {
    await browser.close();
  }
}

run(trailing);
