// Bundles the app into dist/: one minified script, one stylesheet, index.html, and the
// gzipped size of each against the budget (all JavaScript and CSS ≤ 50 KB gzipped).
import { build } from "esbuild";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 50 * 1024;
const OUT = process.env.ROSTER_WEB_OUT ?? "dist";
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: ["src/main.tsx", "src/styles.css"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: OUT,
  entryNames: "[name]",
  legalComments: "none",
  logLevel: "warning",
});
// A page's own stylesheet (imported by the page, as pages/links/links.css) comes out as
// main.css: it goes after styles.css, in the one stylesheet that index.html links.
if (existsSync(`${OUT}/main.css`)) {
  appendFileSync(`${OUT}/styles.css`, readFileSync(`${OUT}/main.css`));
  rmSync(`${OUT}/main.css`);
}
copyFileSync("index.html", `${OUT}/index.html`);

let total = 0;
for (const file of ["main.js", "styles.css"]) {
  const gz = gzipSync(readFileSync(`${OUT}/${file}`), { level: 9 }).length;
  total += gz;
  console.log(`${file}: ${(gz / 1024).toFixed(1)} KB gzipped`);
}
console.log(`total: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
writeFileSync(`${OUT}/size.json`, JSON.stringify({ gzipBytes: total, budgetBytes: BUDGET }) + "\n");
if (total > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
