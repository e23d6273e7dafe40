// qr_puppeteer.mjs — what a whatsapp-web.js-style bot does to get the QR payload,
// as the comparison for `latchkeyctl qr` (bench/qr_bench.sh): launch Chromium
// with Latchkey's own flag set, open the page, wait for [data-ref], print its
// value, close the browser.
//
// Usage: node qr_puppeteer.mjs CHROMIUM PROFILE URL [FLAG...]
// FLAG... is the exact argument list Latchkey passes (minus --user-data-dir,
// --remote-debugging-port and the first URL, which Puppeteer adds itself or
// which are added here). Needs puppeteer-core (a node_modules
// folder in $PUPPETEER_CORE_DIR, default: the working directory).
import { createRequire } from 'node:module';
import path from 'node:path';

const base = process.env.PUPPETEER_CORE_DIR || process.cwd();
const require = createRequire(path.join(base, 'noop.js'));
const puppeteer = require('puppeteer-core');

const [exe, profile, url, ...flags] = process.argv.slice(2);
if (!exe || !profile || !url) {
  console.error('usage: node qr_puppeteer.mjs CHROMIUM PROFILE URL [FLAG...]');
  process.exit(2);
}

const browser = await puppeteer.launch({
  executablePath: exe,
  // Latchkey's flags only, none of Puppeteer's defaults (--enable-automation,
  // --disable-extensions, ...): the same browser configuration for both.
  ignoreDefaultArgs: true,
  // The same transport as Latchkey: a WebSocket on a port Chromium picks
  // (Puppeteer adds --remote-debugging-port=0 itself, as Latchkey does).
  pipe: false,
  userDataDir: profile,
  args: [...flags, `--user-data-dir=${profile}`, 'about:blank'],
  // Puppeteer's own clean-up on signals would only hide a leak; the bench checks.
  handleSIGINT: false,
  handleSIGTERM: false,
  handleSIGHUP: false,
  protocolTimeout: 30000,
});
let rc = 0;
try {
  const [page] = await browser.pages();
  const p = page || (await browser.newPage());
  await p.goto(url, { waitUntil: 'domcontentloaded' });
  const el = await p.waitForSelector('[data-ref]', { timeout: 30000 });
  const ref = await el.evaluate((e) => e.getAttribute('data-ref'));
  process.stdout.write(ref + '\n');
} catch (e) {
  console.error(`qr_puppeteer: ${e && e.message ? e.message : e}`);
  rc = 1;
} finally {
  await browser.close();
}
process.exit(rc);
