// What every browser test needs: Debian's Chromium driven by playwright-core, a signed-in
// page per user (each in its own browser context, as two people on two machines), the mail
// the SES emulator received, an axe-core check, and screenshots under target/.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const BASE = process.env.ROSTER_E2E_URL ?? "http://127.0.0.1:3000";
export const SES_STORE = process.env.ROSTER_E2E_SES_STORE ?? "http://127.0.0.1:8005/store";
const here = dirname(fileURLToPath(import.meta.url));
export const SHOTS = resolve(process.env.ROSTER_E2E_SHOTS ?? join(here, "../../target/screenshots"));
// Evaluated through the DevTools protocol, which the page's CSP (kept on in these tests)
// does not block, as it would an injected <script>.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// The flags that keep Chromium off the network this machine cannot reach.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** One browser per test file, closed after it. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await chromium.launch({ executablePath: process.env.ROSTER_E2E_CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  });
  after(async () => browser?.close());
  return () => browser!;
}

/** A name unique to this run, so that test files share one table without meeting. */
const RUN = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
export function unique(name: string): string {
  return `${name}-${RUN}`;
}

export type Person = { sub: string; email: string; name: string; verified?: boolean };

/** A person with a fresh user id and address: `person("alice")` → Alice. */
export function person(first: string, verified = true): Person {
  const sub = unique(first.toLowerCase());
  return { sub, email: `${sub}@example.com`, name: first[0]!.toUpperCase() + first.slice(1), verified };
}

/** A new browser context (their own cookies and storage) with a page, not signed in; `base`
 * is the app's address (another gateway's for the sign-in tests). */
export async function newPage(browser: Browser, width = 1280, base = BASE): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 860 }, baseURL: base });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  return page;
}

/** Signs in through the sign-in form, as a person does; lands on `next` (or the start page). */
export async function signIn(page: Page, who: Person, next = "/"): Promise<void> {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await fillSignIn(page, who);
  await page.waitForURL((url) => url.pathname === next.split("?")[0]);
}

/** Fills and sends the sign-in form on the page as it is. */
export async function fillSignIn(page: Page, who: Person): Promise<void> {
  await page.getByLabel("User id").fill(who.sub);
  await page.getByLabel("Email", { exact: true }).fill(who.email);
  await page.getByLabel("Name").fill(who.name);
  await page.getByLabel("Email address verified").setChecked(who.verified !== false);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A signed-in page for `who` in a context of its own. */
export async function pageFor(browser: Browser, who: Person, next = "/"): Promise<Page> {
  const page = await newPage(browser);
  await signIn(page, who, next);
  return page;
}

/** Calls the API as `who` (a dev token from the local gateway): for setting up state that a
 * test is not about. */
export async function apiAs<T = unknown>(who: Person, method: string, path: string, body?: unknown): Promise<T> {
  return apiAt<T>(BASE, who, method, path, body);
}

/** `apiAs` on the gateway at `base`. */
export async function apiAt<T = unknown>(base: string, who: Person, method: string, path: string, body?: unknown): Promise<T> {
  const tokenResponse = await fetch(`${base}/_local/dev-token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub: who.sub, email: who.email, name: who.name, emailVerified: who.verified !== false }),
  });
  const { token } = (await tokenResponse.json()) as { token: string };
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} → ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Creates an organization owned by `owner` through the API; its id. */
export async function orgOf(owner: Person, name = unique("Org")): Promise<string> {
  const created = await apiAs<{ org: { id: string } }>(owner, "POST", "/orgs", { name });
  return created.org.id;
}

export type Mail = { subject: string; html: string; text: string; acceptUrl: string; at: number };

/** Every message the SES emulator received for `address`, oldest first. */
export async function mailbox(address: string): Promise<Mail[]> {
  const store = (await (await fetch(SES_STORE)).json()) as {
    emails: { destination: { to: string[] }; subject: string; body: { html?: string; text?: string }; at: number }[];
  };
  return store.emails
    .filter((m) => m.destination.to.some((to) => to.toLowerCase().includes(address.toLowerCase())))
    .map((m) => {
      const text = m.body.text ?? "";
      const url = /https?:\/\/\S+\/invite\?token=[A-Za-z0-9._~-]+/.exec(text)?.[0] ?? "";
      return { subject: m.subject, html: m.body.html ?? "", text, acceptUrl: url, at: m.at };
    });
}

/** The newest invitation mailed to `address`, waiting briefly for it. */
export async function latestMail(address: string, newerThan = 0): Promise<Mail> {
  for (let i = 0; i < 50; i++) {
    const mails = (await mailbox(address)).filter((m) => m.at >= newerThan);
    const last = mails.at(-1);
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail for ${address}`);
}

/** axe-core on the page as it is now: no violation of any rule. */
export async function checkA11y(page: Page, screen: string): Promise<void> {
  await page.locator("main h1").first().waitFor();
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    // @ts-expect-error axe is the script just added to the page.
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return (result.violations as { id: string; help: string; nodes: { target: string[] }[] }[]).map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
    );
  });
  assert.deepEqual(violations, [], `axe violations on ${screen}`);
}

/** A screenshot under target/screenshots (not committed): look at them. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Moves the local stack's clock forward (the gateway runs with ROSTER_LOCAL_TIME_TRAVEL=1):
 * expiry is reached without sleeping. The offset stays for the rest of the run, so tests
 * that use it make their own invitations after it. */
export async function advanceClock(seconds: number): Promise<void> {
  await clockOffset(seconds);
}

/** The local stack's clock now, in milliseconds (moved forward by the tests before). */
export async function stackNow(): Promise<number> {
  return Date.now() + (await clockOffset(0)) * 1000;
}

/** Moves the local stack's clock by `seconds` (0: not at all); its offset afterwards. */
async function clockOffset(seconds: number): Promise<number> {
  const response = await fetch(`${BASE}/_local/clock`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(response.status, 200, "the local gateway must run with ROSTER_LOCAL_TIME_TRAVEL=1");
  return ((await response.json()) as { offsetSeconds: number }).offsetSeconds;
}

/** A service's access token for the local gateway (`dev-token --client ... --scope ...`):
 * the client-credentials claims tests/src/token.rs mints, signed with the same development
 * secret (ROSTER_DEV_JWT_SECRET, else its default). */
export function serviceToken(client: string, scope: string): string {
  const secret = process.env.ROSTER_DEV_JWT_SECRET || "roster-dev-secret-for-local-use-only";
  const now = Math.floor(Date.now() / 1000);
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const claims = { sub: client, client_id: client, token_use: "access", scope, iat: now, exp: now + 3600, iss: "roster-local" };
  const signed = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

/** Milliseconds, in the page, from navigating to `org`'s members page until its 50th role
 * drop-down is enabled: when a person can use the page (the performance tests' figure). */
export async function membersInteractiveMs(page: Page, org: string, timeout: number): Promise<number> {
  await page.goto(`/o/${org}/members`);
  const handle = await page.waitForFunction(
    () => {
      const selects = document.querySelectorAll<HTMLSelectElement>("table.roster tbody select");
      return selects.length >= 50 && !selects[49]!.disabled ? performance.now() : false;
    },
    undefined,
    { polling: "raf", timeout },
  );
  return Math.round((await handle.jsonValue()) as number);
}
