// Signing in, the organizations page, creating an organization, signing out; tokens per tab.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkA11y, fillSignIn, newPage, person, shot, unique, useBrowser } from "./harness";

const browser = useBrowser();

test("a new user signs in, is offered to create an organization, creates one and signs out", async () => {
  const alice = person("alice");
  const page = await newPage(browser());
  await page.goto("/");
  // Not signed in: the sign-in page, returning to where the visitor was going.
  await page.waitForURL(/\/sign-in\?next=/);
  await checkA11y(page, "sign-in");
  await shot(page, "sign-in");
  await fillSignIn(page, alice);
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  await page.getByText("You don't belong to an organization yet").waitFor();
  await checkA11y(page, "organizations (none)");
  await shot(page, "organizations-empty");

  const name = unique("Acme");
  await page.getByLabel("Organization name").fill(name);
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  assert.match(page.url(), /\/o\/org_[^/]+\/members$/);

  await page.getByRole("link", { name: "Organizations" }).click();
  const row = page.getByRole("listitem").filter({ hasText: name });
  await row.getByText("Owner · 1 member").waitFor();
  await checkA11y(page, "organizations");
  await shot(page, "organizations");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.goBack();
  await page.waitForURL(/\/sign-in/);
});

test("two tabs of one browser can be signed in as two users", async () => {
  const [alice, bob] = [person("alice"), person("bob")];
  const first = await newPage(browser());
  await first.goto("/sign-in");
  await fillSignIn(first, alice);
  const second = await first.context().newPage();
  await second.goto("/sign-in");
  await fillSignIn(second, bob);
  await second.getByText("Signed in as Bob").waitFor();
  await first.reload();
  await first.getByText("Signed in as Alice").waitFor();
});

test("an invalid organization name is refused with a sentence, and nothing is created", async () => {
  const page = await newPage(browser());
  await page.goto("/sign-in");
  await fillSignIn(page, person("carol"));
  await page.getByLabel("Organization name").fill("bad\u0007name");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.getByRole("alert").waitFor();
  assert.match((await page.getByRole("alert").textContent()) ?? "", /not accepted/);
  assert.equal(await page.getByRole("listitem").count(), 0);
});

test("a malformed address shows the not-found page, with the way back to the organizations", async () => {
  const dana = person("dana");
  const page = await newPage(browser());
  await page.goto("/sign-in");
  await fillSignIn(page, dana);
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  // Percent signs that decode to nothing, as a mistyped or cut-off link has them.
  for (const path of ["/o/%zz/members", "/o/org_1/members/%E0%A4%A", "/o/%/settings", "/o/abc%2"]) {
    await page.goto(path);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor({ timeout: 5000 });
    await page.getByText("Check the address, or go to your organizations.").waitFor();
    // The header is there too: the app runs, it is not a blank page.
    await page.getByText("Signed in as Dana").waitFor();
  }
  await checkA11y(page, "page not found");
  await shot(page, "not-found");
  await page.setViewportSize({ width: 390, height: 860 });
  await shot(page, "not-found-mobile");
  await page.setViewportSize({ width: 1280, height: 860 });
  // By keyboard: the skip link, then the way back.
  await page.keyboard.press("Tab");
  let tabs = 0;
  while (!(await page.evaluate(() => document.activeElement?.textContent === "Go to your organizations")) && tabs++ < 10) {
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Your organizations" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
});
