// The console in a real browser: Debian's Chromium driven by playwright-core
// against a `parley demo` network (three real nodes, the story replayed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const parley = process.env.PARLEY_BIN || join(repo, 'target', 'debug', 'parley');
const shots = join(here, '..', 'screenshots');
mkdirSync(shots, { recursive: true });
const port = Number(process.env.PARLEY_E2E_PORT || 7400 + Math.floor(Math.random() * 400));
// Consoles listen at the peers' port + 1000 (`parley init` by default).
const url = { nato: `http://127.0.0.1:${port + 1000}`, russia: `http://127.0.0.1:${port + 1001}`, osce: `http://127.0.0.1:${port + 1002}`, usa: `http://127.0.0.1:${port + 1003}` };
const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
const PASSWORD = 'parley-demo';

let demo, browser;

function waitForLine(proc, text, ms) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${ms} ms:\n${out}`)), ms);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes(text)) { clearTimeout(timer); resolve(out); }
    });
    proc.on('exit', (code) => reject(new Error(`demo exited (${code}):\n${out}`)));
  });
}

before(async () => {
  demo = spawn(parley, ['demo', '--dir', dir, '--port', String(port), '--no-traffic'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForLine(demo, 'the consoles', 180_000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGINT');
    await new Promise((r) => demo.on('exit', r));
  }
});

async function signIn(party, user) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${url[party]}/login`);
  await page.fill('#name', user);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/inbox/);
  return page;
}

async function shot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
}

function identities() {
  return ['nato', 'russia', 'osce'].flatMap((p) => ['--identity', join(dir, p, 'party.identity')]);
}

function isoDate(daysFromNow) {
  return new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10);
}

let flashId;

test('a flash message arrives live on the other console, is acknowledged there, and the sender sees receipt and acknowledgement', async () => {
  const nato = await signIn('nato', 'duty');
  const russia = await signIn('russia', 'duty');
  await shot(russia, 'inbox-before');

  await nato.goto(`${url.nato}/compose?kind=hotline_message&channel=nato.mil`);
  await nato.selectOption('select[name=priority]', 'flash');
  await nato.fill('input[name=subject]', 'Unplanned air activity');
  await nato.fill('textarea[name="text.en"]', 'Two aircraft will cross the exercise area at 14:00Z. Acknowledge.');
  await nato.fill('textarea[name="text.ru"]', 'Два самолёта пересекут район учений в 14:00Z. Подтвердите.');
  await shot(nato, 'compose-flash');
  await nato.click('form.compose button[type=submit]');
  await nato.waitForURL(/\/entry\/nato\.mil\/nato\/\d+/);
  flashId = new URL(nato.url()).pathname.replace('/entry/', '');

  // Russia's inbox shows it without a reload, flashing until acknowledged.
  const row = russia.locator('#live tr', { hasText: 'Unplanned air activity' });
  await row.waitFor({ timeout: 20_000 });
  await russia.locator('.alarm.flashing', { hasText: 'not yet acknowledged' }).waitFor({ timeout: 20_000 });
  assert.match(await row.innerText(), /FLASH/);
  await shot(russia, 'inbox-flash-arrived');
  await shot(russia, 'readme-inbox-flash-arrived', { fullPage: false });
  await row.locator('button.ack').click();
  await russia.waitForURL(/\/inbox/);
  assert.equal(await russia.locator('.alarm.flashing').count(), 0, 'the alarm stops once acknowledged');

  // NATO sees Russia's signed receipt and its acknowledgement.
  const delivery = nato.locator('table', { hasText: 'Delivered (signed receipt)' }).locator('tr', { hasText: 'russia' });
  for (let i = 0; i < 40; i++) {
    const text = await delivery.innerText();
    if (/DELIVERED/.test(text) && /\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z/.test(text) && /Duty|duty/.test(text)) break;
    await nato.waitForTimeout(500);
    await nato.reload();
  }
  const text = await delivery.innerText();
  assert.match(text, /DELIVERED/);
  assert.match(text, /duty/i, `acknowledged by Russia's duty officer: ${text}`);
  await shot(nato, 'entry-delivered-acknowledged');
});

test('an exercise notification breaking the lead time shows the error beside the field, and once fixed appears on the other side\'s map', async () => {
  const russia = await signIn('russia', 'expert');
  await russia.goto(`${url.russia}/compose?kind=prior_notification&channel=nato.mil`);
  await russia.fill('input[name=designation]', 'VOSTOK-WEST');
  await russia.fill('input[name=purpose]', 'Command post exercise with troops');
  await russia.fill('textarea[name=participating_states]', 'russia');
  await russia.fill('input[name=command_level]', 'army');
  await russia.fill('input[name=start]', isoDate(30));
  await russia.fill('input[name=end]', isoDate(35));
  await russia.fill('textarea[name=area]', '30 53\n34 53\n34 56\n30 56');
  await russia.fill('input[name="forces.troops"]', '15000');
  await russia.click('form.compose button[type=submit]');
  const startField = russia.locator('.field.invalid', { has: russia.locator('input[name=start]') });
  await startField.waitFor();
  assert.match(await startField.locator('.error').innerText(), /start is 30 days after notification; the Vienna Document requires 42/);
  assert.equal(await russia.inputValue('input[name=designation]'), 'VOSTOK-WEST', 'nothing typed is lost');
  assert.equal(await russia.inputValue('input[name="forces.troops"]'), '15000');
  await shot(russia, 'compose-exercise-error');

  await russia.fill('input[name=start]', isoDate(50));
  await russia.fill('input[name=end]', isoDate(55));
  await russia.click('form.compose button[type=submit]');
  await russia.waitForURL(/\/entry\/nato\.mil\/russia\/\d+/);

  const nato = await signIn('nato', 'expert');
  await nato.goto(`${url.nato}/exercises`);
  const label = nato.locator('svg.map text', { hasText: 'VOSTOK-WEST' });
  for (let i = 0; i < 40 && (await label.count()) === 0; i++) {
    await nato.waitForTimeout(500);
    await nato.reload();
  }
  await label.waitFor();
  const row = nato.locator('tr', { hasText: 'VOSTOK-WEST' });
  assert.match(await row.innerText(), /OBSERVATION REQUIRED/);
  await shot(nato, 'exercises-map');
});

test('the proof bundle downloaded from the Verify panel verifies with parley verify', async () => {
  assert.ok(flashId, 'the first test sent a message');
  const auditor = await signIn('nato', 'auditor');
  await auditor.goto(`${url.nato}/entry/${flashId}`);
  await auditor.locator('#verify').waitFor();
  const panel = await auditor.locator('#verify').innerText();
  assert.match(panel, /VERIFIED/);
  assert.match(panel, /Delivered to russia at/, 'the receipt is shown as delivery');
  await shot(auditor, 'entry-verify-panel');
  const [download] = await Promise.all([auditor.waitForEvent('download'), auditor.click('text=Download proof bundle')]);
  const file = join(dir, 'downloaded.tlog-proof');
  await download.saveAs(file);
  const out = execFileSync(parley, ['verify', file, ...identities()], { encoding: 'utf8' });
  assert.match(out, new RegExp(`verified: entry ${flashId}`));
  assert.match(out, /delivered to russia at .* \(receipt\)/);
});

test('a role without the right to sign cannot sign a draft, in the page or against the server', async () => {
  const diplomat = await signIn('russia', 'diplomat');
  await diplomat.goto(`${url.russia}/negotiations`);
  await diplomat.locator('text=security-guarantees').first().waitFor();
  assert.equal(await diplomat.locator('a', { hasText: /^Sign / }).count(), 0, 'no Sign button for a diplomat');
  await shot(diplomat, 'negotiations');

  // The server refuses too: the form page, and a forged post with a valid session and token.
  const form = await diplomat.goto(`${url.russia}/compose?kind=draft_signature&channel=nato.nrc&ref=nato.nrc/russia/1`);
  assert.equal(form.status(), 403);
  await diplomat.goto(`${url.russia}/inbox`);
  const csrf = await diplomat.locator('input[name=csrf]').first().inputValue();
  const before = JSON.parse(execFileSync(parley, ['status', '--dir', join(dir, 'russia'), '--json'], { encoding: 'utf8' }));
  const resp = await diplomat.request.post(`${url.russia}/compose`, {
    form: { csrf, _kind: 'draft_signature', _channel: 'nato.nrc', _ref: 'nato.nrc/russia/1', signed_by: 'Diplomat' },
    headers: { Origin: url.russia },
  });
  assert.equal(resp.status(), 403);
  const afterStatus = JSON.parse(execFileSync(parley, ['status', '--dir', join(dir, 'russia'), '--json'], { encoding: 'utf8' }));
  const size = (s) => s.feeds.find((f) => f.channel === 'nato.nrc' && f.author === 'russia').size;
  assert.equal(size(afterStatus), size(before), 'nothing appended');

  // The signatory does see the button.
  const signatory = await signIn('russia', 'signatory');
  await signatory.goto(`${url.russia}/negotiations`);
  assert.ok((await signatory.locator('a', { hasText: /^Sign / }).count()) > 0, 'the signatory may sign');
});

test('every view shows what its user relies on, and is saved as a screenshot', async () => {
  const page = await signIn('nato', 'admin');
  const text = () => page.locator('main').innerText();
  const rows = () => page.locator('main table tbody tr').count();
  // What each view must show after the story: rows, badges, names, counts.
  const views = [
    ['inbox', '/inbox', async () => {
      assert.ok((await rows()) >= 10, 'the inbox lists the story\'s entries');
      // The story's dates read as the story: its first entries two months back.
      const dates = await page.locator('main table tbody tr td.when').allInnerTexts();
      const days = new Set(dates.map((d) => d.slice(0, 10)));
      assert.ok(days.size >= 15, `the story spans many days, not one minute: ${[...days].join(' ')}`);
      assert.ok(dates.some((d) => d.startsWith(isoDate(-60))), `the channels open 60 days back: ${dates.slice(-3)}`);
      assert.match(await text(), /no notifiable activity \(a nil calendar\)/, 'Russia\'s nil calendar, by name');
      assert.match(await text(), /Delivery/i);
      assert.ok((await page.locator('main .badge[title*="signed receipt"]').count()) >= 5, 'receipts shown per recipient');
    }],
    ['obligations', '/obligations', async () => {
      assert.ok((await rows()) >= 3, 'the board lists obligations');
      assert.match(await text(), /OVERDUE|OPEN|MET/);
      assert.match(await text(), /clarification|acknowledge|reply/i);
    }],
    ['links', '/links', async () => {
      const t = await text();
      for (const p of ['russia', 'osce']) assert.match(t, new RegExp(p));
      assert.ok((await page.locator('main .badge', { hasText: 'UP' }).count()) >= 2, 'both links up');
      assert.match(t, /mutual TLS 1\.3/);
    }],
    ['exercises', '/exercises', async () => {
      const t = await text();
      assert.match(t, /ZAPAD/);
      assert.match(t, /12,?700|12 700/, 'ZAPAD\'s troops');
      assert.match(t, /NOTIFIABLE|OBSERVATION REQUIRED|BELOW THRESHOLDS/);
      assert.equal(await page.locator('main svg.map').count(), 1, 'the map');
      const places = await page.locator('main svg.map text.place').allTextContents();
      for (const p of ['Poland', 'Belarus', 'Russia', 'Norway', 'Ukraine']) assert.ok(places.includes(p), `${p} named on the map: ${places}`);
      assert.ok((await page.locator('main svg.map path.land').count()) >= 40, 'country outlines, borders drawn');
      assert.match(t, /Surface-to-air missile firing/, 'the Baltic Fleet\'s notice of a missile firing');
      assert.equal(await page.locator('main svg.map path.area.danger').count(), 1, 'its area on the map');
    }],
    ['verification-story', `/verification?year=${new Date().getUTCFullYear() + 1}`, async () => {
      const t = await text();
      assert.match(t, /Military information \(Ch\. I\) for \d{4} by russia: 5 units/, 'Russia\'s Chapter I information from the story');
      assert.match(await page.locator('main table.quotas tr', { hasText: 'russia' }).innerText(), /0 of 1 · 1 left/, 'one evaluation visit for 5 units');
    }],
    ['meetings', '/meetings', async () => {
      const t = await text();
      assert.match(t, /NATO–Russia Council/);
      assert.match(t, /NO REPLY|ACCEPTS|AGREED BY ALL/);
    }],
    ['negotiations-admin', '/negotiations', async () => {
      const t = await text();
      assert.match(t, /Memorandum on the testing of the military line/);
      assert.match(t, /SIGNED BY ALL/, 'the memorandum both sides signed');
      assert.match(t, /Agreement on measures to ensure the security/, 'the draft never signed');
      assert.match(t, /Negotiation security-guarantees-2021 — 2 track\(s\)/, 'the Council and the OSCE tracks as one negotiation');
      assert.match(t, /AGREED AD REFERENDUM/);
      assert.match(t, /REJECTED/);
      assert.ok((await page.locator('main .badge', { hasText: 'VERIFIED' }).count()) >= 2, 'NATO verifies the OSCE version\'s links to the Council');
    }],
    ['silence', '/silence', async () => {
      assert.ok((await rows()) >= 1, 'what went unanswered');
      const t = await text();
      assert.match(t, /Silent for/i);
      // The story's silences, on its story clock: the invitation left
      // without reply 25 days ago, the second request for clarification 10.
      const invitation = page.locator('main tr', { hasText: 'reply to the invitation nato.nrc/nato/1' });
      assert.match(await invitation.innerText(), /^\s*2[45] days/, 'the unanswered invitation');
      assert.match(await page.locator('main tr', { hasText: 'nato.mil/nato/8' }).innerText(), /^\s*(9|10) days/);
      assert.doesNotMatch(t, /-\d+ (days|h|min)/, 'no negative silence');
      assert.doesNotMatch(t, /annual calendar/i, 'next year\'s calendar is not a silence yet');
      await shot(page, 'readme-silence', { fullPage: false });
    }],
    ['timeline', '/timeline?channel=nato.nrc', async () => {
      assert.ok((await rows()) >= 5, 'the council channel\'s transcript');
      const t = await text();
      assert.match(t, /nato/);
      assert.match(t, /russia/);
    }],
    ['verify', '/verify', async () => {
      assert.ok((await page.locator('main textarea').count()) >= 1, 'a place to paste a bundle');
      assert.ok((await page.locator('main button[type=submit], main button').count()) >= 1, 'and to check it');
    }],
    ['compose-menu', '/compose', async () => {
      assert.ok((await page.locator('main a[href*="/compose?kind="]').count()) >= 20, 'a form for every kind');
    }],
    ['compose-meeting-record', '/compose?kind=meeting_record&channel=nato.nrc&ref=nato.nrc/nato/3', async () => {
      assert.ok((await page.locator('main form input, main form textarea, main form select').count()) >= 5, 'the record\'s fields');
      assert.match(await text(), /Meeting record/i);
    }],
    ['entry-draft-translation', '/entry/nato.nrc/russia/1', async () => {
      const t = await text();
      assert.match(t, /AUTHENTIC/, 'the Council\'s authentic language marked');
      assert.match(t, /TRANSLATION MISSING/, 'the Russian translation the Council requires, marked missing');
    }],
    ['entry-sea-incident', '/entry/nato.sea/nato/1', async () => {
      const t = await text();
      assert.match(t, /USS Donald Cook/);
      assert.match(t, /Su-24/);
      assert.match(t, /closest approach/i);
    }],
    ['entry-record', '/entry/nato.nrc/nato/6', async () => {
      const t = await text();
      assert.match(t, /DELIVERED/);
      assert.match(t, /VERIFIED/);
      assert.match(t, /Delivered to russia/i);
      assert.match(t, /Security guarantees in Europe/);
    }],
  ];
  for (const [name, path, check] of views) {
    const resp = await page.goto(`${url.nato}${path}`);
    assert.equal(resp.status(), 200, path);
    assert.equal(await page.locator('h1').count(), 1, path);
    await check();
    await shot(page, name);
  }
  const osce = await signIn('osce', 'auditor');
  await osce.goto(`${url.osce}/negotiations`);
  assert.ok((await osce.locator('main .badge', { hasText: 'NOT VISIBLE TO US' }).count()) >= 2, 'the OSCE sees the Council versions named, not verifiable');
  await shot(osce, 'negotiations-osce');
  await osce.goto(`${url.osce}/links`);
  await shot(osce, 'witness-links');
  assert.match(await osce.locator('main').innerText(), /nato/, 'the witness\'s links');
  // The story's inspection and third track, on the two States' consoles.
  const russia = await signIn('russia', 'auditor');
  await russia.goto(`${url.russia}/verification`);
  const v = await russia.locator('main').innerText();
  assert.match(v, /Channel usa\.vd/i);
  assert.match(await russia.locator('main .panel', { hasText: 'usa.vd' }).locator('table.quotas tr', { hasText: 'russia' }).innerText(), /1 of 3 · 2 left/, 'one of Russia\'s three inspections used');
  assert.match(v, /ACCEPTED/);
  assert.match(v, /report usa\.vd\/usa\/\d+/, 'the inspectors\' report');
  await shot(russia, 'verification-story-inspection');
  await russia.goto(`${url.russia}/negotiations`);
  assert.match(await russia.locator('main').innerText(), /Negotiation security-guarantees-2021 — 3 track\(s\)/, 'Russia sees all three tracks');
  assert.ok((await russia.locator('main .badge', { hasText: 'FALSE LINK' }).count()) === 0);
  await shot(russia, 'negotiations-three-tracks', { fullPage: false });
  const usa = await signIn('usa', 'auditor');
  await usa.goto(`${url.usa}/negotiations`);
  const n = await usa.locator('main').innerText();
  assert.match(n, /Negotiation security-guarantees-2021 — 1 track\(s\)/);
  assert.ok((await usa.locator('main .badge', { hasText: 'NOT VISIBLE TO US' }).count()) >= 1, 'the link to the Council, named but not checkable');
});

test('the console in Russian: a user who prefers it sees every view in Russian, with Russian dates and numbers; the switch and ?lang= change it and are remembered', async () => {
  const page = await signIn('russia', 'dezhurny');
  const lang = () => page.locator('html').getAttribute('lang');
  assert.equal(await lang(), 'ru', 'the user\'s preference (parley user add --language ru)');
  assert.match(await page.locator('nav.main a').first().innerText(), /^Входящие/);
  // What the console itself writes (not what a party wrote) must be Russian:
  // every word of three Latin letters or more in the console's own chrome is
  // a name, an id, a code or a unit the two languages share.
  const shared = /\b(nato|russia|osce|usa|NATO|RUSSIA|OSCE|UTC|parley|ad|referendum|ZAPAD|VD11|Chapter|para|FSC|DOC|INCSEA|Art|en|ru|sha256|url|vkey|GeoJSON|Polygon|NAVAREA|NOTAM|ISO|EUR|TLS|HTTP|tlog|proof|identity|FILE|VKEY|PARTY|incsea|hotline|testing|security|guarantees|nrc|military|rules|kinds|plaintext|federation)\b/gi;
  const english = async () => (await page.locator('nav.main a, main h1, main h2, main th, main label:not(:has(select)), main button, main legend, main .badge, main p.help, main dt').allInnerTexts())
    .map((t) => t.replace(/\S*[./@#:]\S*/g, '').replace(shared, ''))
    .filter((t) => /[A-Za-z]{3,}/.test(t));
  const views = [
    ['inbox', '/inbox', async (t) => {
      const dates = await page.locator('main table tbody tr td.when').allInnerTexts();
      assert.ok(dates.length >= 10 && dates.every((d) => /^\d\d\.\d\d\.\d{4} \d\d:\d\d UTC$/.test(d.trim())), `dates as Russian writes them: ${dates.slice(0, 3)}`);
      assert.match(t, /Время \(UTC\)/i);
    }],
    ['obligations', '/obligations', async (t) => {
      assert.match(t, /ПРОСРОЧЕНО|ОТКРЫТО|ВЫПОЛНЕНО/);
      assert.match(t, /ответить на вопросы \(\d\) запроса о разъяснении/, 'the domain\'s obligations, translated with their values');
      const countdowns = await page.locator('main [data-due]').allInnerTexts();
      assert.ok(countdowns.length > 0 && countdowns.every((c) => /^(через|ПРОСРОЧЕНО на) /.test(c)), `countdowns in Russian: ${countdowns.slice(0, 3)}`);
      await shot(page, 'ru-obligations-top', { fullPage: false });
    }],
    ['exercises', '/exercises', async (t) => {
      assert.match(t, /12\u00a0700 чел\./, 'ZAPAD\'s troops, grouped with a no-break space');
      const places = await page.locator('main svg.map text.place').allTextContents();
      for (const p of ['Польша', 'Беларусь', 'Россия', 'Норвегия']) assert.ok(places.includes(p), `${p} on the map: ${places}`);
    }],
    ['verification', `/verification?year=${new Date().getUTCFullYear() + 1}`, async (t) => {
      assert.match(t, /0 из 1 · 1 осталось/, 'the evaluation quota left');
      assert.match(t, /срок 15\.12\.\d{4}/, 'a due date as Russian writes it');
    }],
    ['meetings', '/meetings', async (t) => { assert.match(t, /ОЖИДАНИЕ|ПРИНИМАЕТ|СОГЛАСОВАНО ВСЕМИ/); }],
    ['negotiations', '/negotiations', async (t) => { assert.match(t, /ПОДПИСАНО ВСЕМИ/); assert.match(t, /СОГЛАСОВАНО AD REFERENDUM/); }],
    ['silence', '/silence', async (t) => { assert.match(t, /Молчит/); assert.match(t, /\d+ (день|дня|дней)/); }],
    ['links', '/links', async (t) => { assert.match(t, /НА СВЯЗИ/); }],
    ['timeline', '/timeline?channel=nato.nrc', async () => {}],
    ['verify', '/verify', async (t) => { assert.match(t, /Проверить доказательство/); }],
    ['compose', '/compose', async (t) => { assert.match(t, /Что вы хотите отправить\?/); }],
    ['compose-incident', '/compose?kind=incident_report&channel=nato.sea', async (t) => { assert.match(t, /Что произошло/); assert.match(t, /Инцидент в цифрах/); }],
    ['entry', '/entry/nato.nrc/russia/1', async (t) => { assert.match(t, /АУТЕНТИЧНЫЙ/); assert.match(t, /НЕТ ПЕРЕВОДА/); assert.match(t, /Доставка/i); }],
    ['entry-sea', '/entry/nato.sea/nato/1', async (t) => {
      assert.match(t, /USS Donald Cook/, 'what a party wrote is never translated');
      assert.match(t, /корабль/, 'a fixed value of the protocol (craft: ship) in Russian');
      assert.equal(await page.locator('main .code-word[title=ship]').count(), 1, 'with the recorded value beside it');
    }],
  ];
  for (const [name, path, check] of views) {
    const resp = await page.goto(`${url.russia}${path}`);
    assert.equal(resp.status(), 200, path);
    assert.equal(await lang(), 'ru', path);
    await check(await page.locator('main').innerText());
    assert.deepEqual(await english(), [], `${path}: the console's own words in English`);
    await shot(page, `ru-${name}`);
  }
  // What a party wrote is shown as written, even when it spells the
  // console's own words: NATO sends a message whose subject and texts are
  // the English of Russian buttons.
  const body = join(dir, 'words.json');
  writeFileSync(body, JSON.stringify({ priority: 'routine', subject: 'Sign out', text: { en: 'Acknowledge', ru: 'Inbox' } }));
  const sent = JSON.parse(execFileSync(parley, ['send', '--dir', join(dir, 'nato'), '--channel', 'nato.mil', '--kind', 'hotline_message', '--body', body, '--json'], { encoding: 'utf8' }));
  const id = sent.id || sent.entry || sent.entries?.[0];
  assert.ok(id, JSON.stringify(sent));
  for (let i = 0; i < 50 && (await page.goto(`${url.russia}/entry/${id}`)).status() !== 200; i++) await page.waitForTimeout(200);
  const words = await page.locator('main .texts').innerText();
  assert.match(words, /Acknowledge/);
  assert.match(words, /Inbox/);
  assert.doesNotMatch(words, /Подтвердить|Входящие/, 'a party\'s text is never translated');
  await page.goto(`${url.russia}/inbox`);
  assert.match(await page.locator('main table').innerText(), /Sign out/, 'nor its subject');

  // A kind the role may not send: refused, in Russian.
  const refused = await page.goto(`${url.russia}/compose?kind=prior_notification&channel=nato.mil`);
  assert.equal(refused.status(), 403);
  assert.match(await page.locator('main').innerText(), /Не разрешено[\s\S]*Роль «дежурный офицер» не может отправлять «предварительное уведомление о военной деятельности»/);
  // A rule broken: the error beside the field is in Russian.
  await page.goto(`${url.russia}/compose?kind=hotline_message&channel=nato.mil`);
  await page.click('form.compose button[type=submit]');
  assert.match(await page.locator('main').innerText(), /Не отправлено\./);
  assert.match(await page.locator('main .error').first().innerText(), /[А-Яа-я]/, 'the rule in Russian');
  await shot(page, 'ru-compose-error');
  // The switch: English for this browser, remembered as one clicks on.
  await page.goto(`${url.russia}/obligations`);
  await page.click('header .languages a[hreflang=en]');
  assert.equal(await lang(), 'en');
  assert.match(page.url(), /\/obligations\?lang=en$/);
  await page.goto(`${url.russia}/inbox`);
  assert.equal(await lang(), 'en', 'the choice is remembered');
  assert.match(await page.locator('nav.main').innerText(), /Inbox/);
  assert.match((await page.locator('main table tbody tr td.when').first().innerText()).trim(), /^\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
  // A link that says its language wins over the remembered choice.
  await page.goto(`${url.russia}/exercises?lang=ru`);
  assert.equal(await lang(), 'ru');
  assert.match(await page.locator('main').innerText(), /Обозначения/);
  // An outsider's link with a language we do not speak (markup, in fact):
  // ignored, nothing remembered, nothing of it in the page.
  const crafted = await page.goto(`${url.russia}/inbox?lang=${encodeURIComponent('"><script>alert(1)</script>')}`);
  assert.equal(crafted.status(), 200);
  assert.equal(await lang(), 'ru', 'the remembered choice stands');
  assert.doesNotMatch((await crafted.allHeaders())['set-cookie'] || '', /parley_lang/, 'no cookie from it');
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no script from it');
  // A browser that asks for Russian gets the sign-in page in Russian.
  const context = await browser.newContext({ locale: 'ru-RU' });
  const login = await context.newPage();
  await login.goto(`${url.nato}/login`);
  assert.equal(await login.locator('html').getAttribute('lang'), 'ru');
  assert.match(await login.locator('body').innerText(), /Вход на узел NATO/);
  await shot(login, 'ru-login');
  await context.close();
});

test('an inspection within quota is requested and accepted in the browser, and both sides see the quota left', async () => {
  const cli = (party, args) => execFileSync(parley, [...args, '--dir', join(dir, party)], { encoding: 'utf8' });
  const channels = (party) => JSON.parse(cli(party, ['channel', 'list', '--json']));
  const until = async (what, f) => {
    for (let i = 0; i < 100; i++) { if (f()) return; await new Promise((r) => setTimeout(r, 200)); }
    assert.fail(`waited for ${what}`);
  };
  // A Vienna Document channel whose members are both participating States
  // (a fixture: on the story's military line NATO is not one).
  cli('russia', ['channel', 'create', '--id', 'russia.vd', '--members', 'russia,nato', '--level', 'military', '--languages', 'en,ru', '--annual-exchange']);
  await until('the charter at NATO', () => channels('nato').some((c) => c.id === 'russia.vd'));
  cli('nato', ['channel', 'accept', '--id', 'russia.vd']);
  await until('the channel to be active', () => channels('russia').some((c) => c.id === 'russia.vd' && c.state === 'active'));
  const units = Array.from({ length: 130 }, (_, i) => ({ designation: `Unit ${i + 1}`, location: 'Garrison' }));
  const body = join(dir, 'chapter-one.json');
  writeFileSync(body, JSON.stringify({ year: new Date().getUTCFullYear(), units }));
  cli('russia', ['send', '--channel', 'russia.vd', '--kind', 'military_information', '--body', body]);

  // NATO's expert fills in the request.
  const nato = await signIn('nato', 'expert');
  await nato.goto(`${url.nato}/compose?kind=inspection_request&channel=russia.vd`);
  await nato.selectOption('select[name=to]', 'russia');
  await nato.fill('textarea[name=reasons]', 'Forces above the thresholds reported near Pskov without a notification.');
  await nato.fill('textarea[name=specified_area]', '28.0 57.2\n29.6 57.2\n29.6 58.2\n28.0 58.2');
  await nato.fill('input[name=area_description]', 'Pskov region, west of the Velikaya');
  await nato.fill('input[name=point_of_entry]', 'Pskov (Kresty) airfield');
  await nato.fill('input[name=transport]', 'Aircraft of the inspecting State');
  await nato.selectOption('select[name=means]', 'ground_and_air');
  await nato.fill('textarea[name=inspectors]', 'Col. A. Brandt\nLt-Col. M. Keller\nMaj. S. Olsen\nCapt. J. Novak\nCapt. E. Fifth');
  await nato.click('form.compose button[type=submit]');
  // Five inspectors: refused beside the field, with the paragraph.
  assert.match(await nato.locator('main').innerText(), /name 1 to 4 inspectors, not 5 \(VD11 Chapter IX, para\. 91\)/);
  await nato.fill('textarea[name=inspectors]', 'Col. A. Brandt\nLt-Col. M. Keller\nMaj. S. Olsen\nCapt. J. Novak');
  await nato.click('form.compose button[type=submit]');
  await nato.waitForURL(/\/entry\/russia\.vd\/nato\/\d+/);
  const request = new URL(nato.url()).pathname.replace('/entry/', '');
  // Numbered per sender and year, with its format, and found by number.
  const facts = await nato.locator('main dl.facts').first().innerText();
  const number = facts.match(/CBM\/NATO\/\d{2}\/\d{4}\/F40/);
  assert.ok(number, `a message number: ${facts}`);
  await nato.goto(`${url.nato}/inbox`);
  await nato.fill('#number', number[0].toLowerCase());
  await nato.click('form.find button');
  const found = await nato.locator('main section').innerText();
  assert.match(found, /1 notification numbered/, found);
  assert.ok(found.includes(request), `the request found by its number: ${found}`);
  await shot(nato, 'inbox-find-by-number');

  // Russia's expert accepts it from the entry page.
  const russia = await signIn('russia', 'expert');
  for (let i = 0; i < 50 && (await russia.goto(`${url.russia}/entry/${request}`)).status() !== 200; i++) await russia.waitForTimeout(200);
  await russia.click('a.button:has-text("Accept or refuse")');
  await russia.selectOption('select[name=decision]', 'accepted');
  await russia.fill('input[name=arrival]', new Date(Date.now() + 30 * 3600_000).toISOString().slice(0, 16));
  await russia.click('form.compose button[type=submit]');
  await russia.waitForURL(/\/entry\/russia\.vd\/russia\/\d+/);

  for (const [page, base] of [[russia, url.russia], [nato, url.nato]]) {
    let t = '';
    for (let i = 0; i < 50; i++) {
      await page.goto(`${base}/verification`);
      t = await page.locator('main').innerText();
      if (/ACCEPTED/.test(t)) break;
      await page.waitForTimeout(200);
    }
    assert.match(t, /WITHIN QUOTA/);
    assert.match(t, /ACCEPTED/);
    const russiaRow = await page.locator('main div.panel', { hasText: 'Channel russia.vd' }).locator('table.quotas tr', { hasText: 'russia' }).innerText();
    assert.match(russiaRow, /1 of 3 · 2 left/, `inspections: ${russiaRow}`);
    assert.match(russiaRow, /130/, 'units reported');
    assert.match(russiaRow, /0 of 3 · 3 left/, `evaluation visits: ${russiaRow}`);
  }
  await shot(nato, 'verification');
  // A second from NATO this year is refused at send, with the paragraph.
  await nato.goto(`${url.nato}/compose?kind=inspection_request&channel=russia.vd&ref=${request}`);
  await nato.selectOption('select[name=to]', 'russia');
  await nato.fill('textarea[name=reasons]', 'Again.');
  await nato.fill('textarea[name=specified_area]', '28.0 57.2\n29.6 57.2\n29.6 58.2\n28.0 58.2');
  for (const f of ['area_description', 'point_of_entry', 'transport']) await nato.fill(`input[name=${f}]`, 'x');
  await nato.fill('textarea[name=inspectors]', 'Col. A. Brandt');
  await nato.click('form.compose button[type=submit]');
  assert.match(await nato.locator('main').innerText(), /beyond quota, refused: russia has accepted 1 inspection from nato/);
  await shot(nato, 'verification-quota-refused');
});

test('each sign-in page names its party, in its own accent', async () => {
  const accents = {};
  for (const party of ['nato', 'russia', 'osce']) {
    const login = await browser.newPage();
    const resp = await login.goto(`${url[party]}/login`);
    assert.equal(resp.status(), 200);
    const body = await login.locator('body').innerText();
    assert.match(body, /Sign in/);
    assert.match(body, new RegExp(`${party.toUpperCase()} node`), `${party}'s page names ${party}`);
    assert.match(await login.title(), new RegExp(party.toUpperCase()));
    accents[party] = await login.locator('main.login').evaluate((e) => getComputedStyle(e).borderTopColor);
    const password = await login.locator('#password').evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(password, 'rgb(255, 255, 255)', 'the password box is styled like the name box');
    if (party === 'nato') await shot(login, 'login');
    await login.close();
  }
  assert.equal(new Set(Object.values(accents)).size, 3, `three distinct accents: ${JSON.stringify(accents)}`);
  const icon = await (await browser.newPage()).goto(`${url.nato}/favicon.ico`);
  assert.equal(icon.status(), 200, 'a favicon, no 404 on every page');
});

test('a meeting invitation form offers only others as invitees, takes the date as its help says, and flags a past date', async () => {
  const diplomat = await signIn('nato', 'diplomat');
  await diplomat.goto(`${url.nato}/compose?kind=meeting_invitation&channel=nato.nrc`);
  const invitees = await diplomat.locator('input[name=to]').evaluateAll((xs) => xs.map((x) => x.value));
  assert.deepEqual(invitees, ['russia'], 'NATO is not offered as its own invitee');
  assert.equal(await diplomat.locator('input[name=reply_by]').getAttribute('type'), 'datetime-local', 'the browser\'s own picker');
  await diplomat.fill('input[name=title]', 'Experts on risk reduction');
  await diplomat.fill('input[name=venue]', 'Vienna');
  await diplomat.fill('textarea[name=proposed_dates]', `${isoDate(-3)} 10:00\n${isoDate(20)} 1000`);
  await diplomat.click('form.compose button[type=submit]');
  const field = diplomat.locator('.field.invalid', { has: diplomat.locator('textarea[name=proposed_dates]') });
  await field.waitFor();
  const error = await field.locator('.error').innerText();
  assert.match(error, /line 2: "[^"]+" is not a date and time: write YYYY-MM-DD HH:MM/, error);
  await diplomat.fill('textarea[name=proposed_dates]', `${isoDate(-3)} 10:00\n${isoDate(20)} 10:00`);
  await diplomat.click('form.compose button[type=submit]');
  await field.waitFor();
  assert.match(await field.locator('.error').innerText(), /must be in the future/, 'the past date is flagged');
  await shot(diplomat, 'compose-invitation-past-date');
});

test('a message with no receipt yet says so, a witness cosignature is not taken for one, and the receipt shows when it comes', async () => {
  // Russia's node goes down; NATO's message is witnessed by the OSCE but
  // cannot be delivered.
  const russiaNode = `serve --dir ${join(dir, 'russia')}$`;
  execFileSync('pkill', ['-TERM', '-f', russiaNode]);
  for (let i = 0; i < 200 && spawnSync('pgrep', ['-f', russiaNode]).status === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const nato = await signIn('nato', 'duty');
  await nato.goto(`${url.nato}/compose?kind=hotline_message&channel=nato.mil`);
  await nato.selectOption('select[name=priority]', 'routine');
  await nato.fill('input[name=subject]', 'While you were away');
  await nato.fill('textarea[name="text.en"]', 'Sent while Russia\'s node is down.');
  await nato.fill('textarea[name="text.ru"]', 'Отправлено, пока узел России недоступен.');
  await nato.click('form.compose button[type=submit]');
  await nato.waitForURL(/\/entry\/nato\.mil\/nato\/\d+/);
  const entry = nato.url();
  const witnessed = nato.locator('#witnessed');
  // The page reads the delivery list and the Verify panel's bundle one
  // after the other: a cosignature stored in between shows in one only
  // until the next load. Wait until both carry the witness's.
  const bothShowWitness = async () => (await witnessed.count()) > 0
    && /The witness cosignatures below are not receipts/.test(await nato.locator('#verify').innerText());
  for (let i = 0; i < 60 && !(await bothShowWitness()); i++) {
    await nato.waitForTimeout(500);
    await nato.reload();
  }
  const delivery = nato.locator('table', { hasText: 'Delivered (signed receipt)' }).locator('tr', { hasText: 'russia' });
  assert.match(await delivery.innerText(), /SENT, NO RECEIPT YET/);
  assert.match(await witnessed.innerText(), /Witnessed by osce .* It is not a receipt/s);
  const panel = await nato.locator('#verify').innerText();
  assert.match(panel, /No receipt yet: delivery is not proven\. The witness cosignatures below are not receipts\./);
  assert.doesNotMatch(panel, /Delivered to russia/);
  await shot(nato, 'entry-witnessed-no-receipt');

  // Russia comes back: the receipt arrives and is shown as delivery.
  const russia = spawn(parley, ['serve', '--dir', join(dir, 'russia')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let russiaLog = '';
  russia.stderr.on('data', (d) => { russiaLog += d; });
  const russiaExited = new Promise((r) => russia.on('exit', r));
  try {
    for (let i = 0; i < 80; i++) {
      await nato.goto(entry);
      if (/DELIVERED/.test(await delivery.innerText())) break;
      await nato.waitForTimeout(500);
    }
    assert.match(await delivery.innerText(), /DELIVERED/, `russia's node: ${russiaLog.slice(-2000)}`);
    assert.match(await nato.locator('#verify').innerText(), /Delivered to russia at .* \(receipt\)/);
  } finally {
    if (russia.exitCode === null && russia.signalCode === null) russia.kill('SIGTERM');
    await russiaExited;
  }
});

test('a second demo on a directory in use is refused, and a taken port is traced to its holder', async () => {
  const again = spawnSync(parley, ['demo', '--dir', dir, '--port', String(port + 20), '--no-traffic'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(again.status, 1, again.stderr);
  assert.match(again.stderr, /a demo already runs in .*: its consoles are up/);
  const other = mkdtempSync(join(tmpdir(), 'parley-e2e-other-'));
  const clash = spawnSync(parley, ['demo', '--dir', other, '--port', String(port), '--no-traffic'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(clash.status, 1, clash.stderr);
  assert.match(clash.stderr, new RegExp(`needs 127\\.0\\.0\\.1:${port}, which is in use by pid \\d+ \\(.*parley serve --dir .*nato\\)`));
});
