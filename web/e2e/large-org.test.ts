// The members page of a very large organization against a 100-member one, in one run: only
// with ROSTER_E2E_LARGE_ORG=<members> (seeding 100,000 members takes minutes), e.g.
// `ROSTER_E2E_LARGE_ORG=100000 make test`. Members are written straight into the table by
// the `seed-members` binary (with their index items, as their transactions write them);
// the page is then timed as a person meets it: until its 50th row's role drop-down can be
// used, and until a search by surname shows its rows. Printed and written to
// target/web-perf-large.json for BENCHMARKS.md; not asserted (a timed test proves nothing).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import type { Page } from "playwright-core";
import { membersInteractiveMs, orgOf, pageFor, person, shot, SHOTS, useBrowser } from "./harness";

const LARGE = Number(process.env.ROSTER_E2E_LARGE_ORG ?? 0);
const ROUNDS = 5;
const browser = useBrowser();

function seed(org: string, count: number): void {
  const out = execFileSync(
    "cargo",
    ["run", "--quiet", "-p", "roster-tests", "--bin", "seed-members", "--", org, String(count)],
    { cwd: joinPath(SHOTS, "..", ".."), env: { ...process.env, TABLE_NAME: process.env.ROSTER_E2E_TABLE ?? "roster-e2e" } },
  );
  console.log(`seeded ${org}: ${out.toString().trim()}`);
}

/// Milliseconds from the last key of a search until a row of its result shows.
async function searched(page: Page, term: string): Promise<number> {
  const box = page.getByLabel("Search members");
  await box.fill("");
  const started = Date.now();
  await box.fill(term);
  await page.waitForFunction(
    (t) => {
      // Member rows (they hold a role drop-down; group headings do not), each a match.
      const rows = [...document.querySelectorAll("table.roster tbody tr")].filter((r) => r.querySelector("select"));
      return rows.length > 0 && rows.every((r) => (r.textContent ?? "").toLowerCase().includes(t));
    },
    term,
    { timeout: 30_000 },
  ).catch(async (e) => {
    const rows = await page.locator("table.roster tbody tr").allTextContents();
    throw new Error(`no rows of "${term}" shown: ${rows.slice(0, 5).join(" | ")} (${e})`);
  });
  return Date.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test("performance: the members page of a very large organization against a 100-member one", { skip: LARGE === 0 && "set ROSTER_E2E_LARGE_ORG=<members> to run it" }, async () => {
  const owner = person("big");
  const [small, large] = [await orgOf(owner), await orgOf(owner)];
  seed(small, 99);
  seed(large, LARGE - 1);
  const page = await pageFor(browser(), owner);
  const figures: Record<string, { interactive: number[]; search: number[] }> = {
    small: { interactive: [], search: [] },
    large: { interactive: [], search: [] },
  };
  // Interleaved, so that the machine's moments fall on both alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, org] of [["small", small], ["large", large]] as const) {
      figures[key]!.interactive.push(await membersInteractiveMs(page, org, 30_000));
      figures[key]!.search.push(await searched(page, "okonkwo"));
    }
  }
  await shot(page, "members-large-org-search");
  const result = {
    members: LARGE,
    rounds: ROUNDS,
    interactiveMs: { small: median(figures.small!.interactive), large: median(figures.large!.interactive) },
    searchMs: { small: median(figures.small!.search), large: median(figures.large!.search) },
  };
  const ratio = (r: { small: number; large: number }) => (r.large / Math.max(r.small, 1)).toFixed(2);
  console.log(
    `members page interactive: ${result.interactiveMs.small} ms (100) vs ${result.interactiveMs.large} ms (${LARGE}) = ${ratio(result.interactiveMs)}x; ` +
      `search shown: ${result.searchMs.small} ms vs ${result.searchMs.large} ms = ${ratio(result.searchMs)}x`,
  );
  writeFileSync(joinPath(SHOTS, "..", "web-perf-large.json"), JSON.stringify(result, null, 2) + "\n");
  assert.ok(result.interactiveMs.large > 0);
});
