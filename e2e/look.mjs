import { chromium } from 'playwright-core';
const [,, base, party, user, ...paths] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
await page.goto(`${base}/login`);
await page.screenshot({ path: `/tmp/look-${party}-login.png` });
await page.fill('#name', user); await page.fill('#password', 'parley-demo');
await page.click('button[type=submit]'); await page.waitForURL(/\/inbox/);
for (const p of paths) {
  await page.goto(`${base}${p}`);
  await page.screenshot({ path: `/tmp/look-${party}-${p.replace(/[^a-z0-9]+/gi, '_')}.png`, fullPage: true });
  console.log(p, (await page.locator('main').innerText()).slice(0, 1500).replace(/\n+/g, ' | '));
}
await browser.close();
