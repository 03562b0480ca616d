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
