// The mesh page in headless chromium (Debian's, through playwright-core): the graph shows the
// proxy and the service, the push table has rows, the rejected object is listed, a screenshot
// is written; then it prints STOP-MESHD, waits for "stopped" on stdin and checks the
// "unreachable" banner. Every step has a timeout; the browser is closed in `finally`.
"use strict";
const fs = require("fs");
const readline = require("readline");
const { chromium } = require("playwright-core");

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
}

function fail(msg) {
  throw new Error(msg);
}

async function main() {
  const url = arg("url"), exe = arg("chromium"), shot = arg("screenshot"), profile = arg("profile");
  fs.mkdirSync(profile, { recursive: true });
  const lines = readline.createInterface({ input: process.stdin });
  const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
  let browser;
  const overall = setTimeout(() => { console.log("FAIL overall timeout"); process.exit(2); }, 100000);
  try {
    // A fresh profile directory (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: exe, headless: true, timeout: 30000, viewport: { width: 1280, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(15000);
    // Nothing but meshd's own origin may be fetched (no CDN, works offline).
    const origin = new URL(url).origin;
    const foreign = [];
    page.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url()); });
    await page.goto(`${url}?interval=300&timeout=1000`, { waitUntil: "load", timeout: 15000 });
    await page.waitForSelector('#graph g.node.proxy[data-name*="productpage"]');
    console.log("ok   graph shows the proxy");
    const proxyState = await page.getAttribute('#graph g.node.proxy[data-name*="productpage"]', "data-state");
    if (!["synced", "stale", "nack"].includes(proxyState)) fail(`proxy state ${proxyState}`);
    console.log(`ok   proxy sync state: ${proxyState}`);
    await page.waitForSelector('#graph g.node.service[data-name="reviews.default.svc.cluster.local"]');
    console.log("ok   graph shows the service");
    await page.waitForSelector("#graph path.edge", { state: "attached" });
    console.log("ok   graph has edges");
    await page.waitForSelector("#pushes tbody tr[data-pending]");
    const pushes = await page.$$eval("#pushes tbody tr[data-pending]", (rows) => rows.length);
    console.log(`ok   push table has ${pushes} row(s)`);
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#pushes tbody tr td:nth-child(8)"))
      .some((td) => /^[0-9.]+$/.test(td.textContent)));
    console.log("ok   a push shows its ACK latency");
    await page.waitForSelector('#objects tbody tr[data-state="rejected"]');
    const rejected = await page.textContent('#objects tbody tr[data-state="rejected"]');
    if (!rejected.includes("broken")) fail(`rejected row does not name the object: ${rejected}`);
    console.log("ok   the rejected object is listed: " + rejected.replace(/\s+/g, " ").slice(0, 120));
    await page.screenshot({ path: shot, fullPage: true, timeout: 15000 });
    console.log(`ok   screenshot ${shot}`);
    if (foreign.length) fail(`the page fetched other origins: ${foreign.join(", ")}`);
    console.log("ok   no request left meshd's origin");

    console.log("STOP-MESHD");
    await Promise.race([nextLine(), new Promise((_, rej) => setTimeout(() => rej(new Error("no 'stopped'")), 20000))]);
    await page.waitForSelector("#banner.down", { timeout: 10000 });
    const banner = await page.textContent("#banner-text");
    if (!/^meshd unreachable since \d\d:\d\d:\d\d, retrying$/.test(banner)) fail(`banner: ${banner}`);
    console.log(`ok   banner: ${banner}`);
    console.log("PASS");
  } finally {
    clearTimeout(overall);
    lines.close();
    if (browser) await browser.close().catch(() => {});
  }
}

main().then(() => process.exit(0), (e) => { console.log(`FAIL ${e.message}`); process.exit(1); });
