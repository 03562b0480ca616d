// Bundles the app into dist/: the minified script main.js, the chunks it loads (code
// splitting: the workspace and group pages, every tab but Members, and a member's page load
// when first opened), one stylesheet, index.html, and the gzipped sizes against the budget:
// what a first visit loads (main.js, the chunks it imports, styles.css) ≤ 50 KB gzipped. The
// chunks loaded on demand are listed, and every chunk is counted in the total printed.
import { build } from "esbuild";
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 50 * 1024;
const OUT = process.env.ROSTER_WEB_OUT ?? "dist";
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const { metafile } = await build({
  entryPoints: ["src/main.tsx", "src/styles.css"],
  bundle: true,
  splitting: true,
  metafile: true,
  // Chunks sit beside main.js at the root: the distribution serves only root files as files.
  chunkNames: "chunk-[hash]",
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
// main.css, or as a chunk's stylesheet when the page loads on demand: each goes after
// styles.css, in the one stylesheet that index.html links.
for (const css of readdirSync(OUT).filter((f) => f.endsWith(".css") && f !== "styles.css").sort()) {
  appendFileSync(`${OUT}/styles.css`, readFileSync(`${OUT}/${css}`));
  rmSync(`${OUT}/${css}`);
}
copyFileSync("index.html", `${OUT}/index.html`);

/** main.js and every chunk it imports statically, transitively: what loads before the app shows. */
const first = new Set();
const visit = (file) => {
  if (first.has(file)) return;
  first.add(file);
  for (const i of metafile.outputs[`${OUT}/${file}`]?.imports ?? []) {
    if (i.kind === "import-statement" && !i.external) visit(i.path.slice(OUT.length + 1));
  }
};
visit("main.js");
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gz = (file) => gzipSync(readFileSync(`${OUT}/${file}`), { level: 9 }).length;
let initial = 0;
let later = 0;
for (const file of [...first, "styles.css"]) {
  initial += gz(file);
  console.log(`${file}: ${kb(gz(file))} gzipped`);
}
for (const file of readdirSync(OUT).filter((f) => f.endsWith(".js") && !first.has(f))) {
  later += gz(file);
  console.log(`${file} (loaded when needed): ${kb(gz(file))} gzipped`);
}
console.log(`first load: ${kb(initial)} gzipped (budget ${BUDGET / 1024} KB); with every chunk: ${kb(initial + later)}`);
writeFileSync(`${OUT}/size.json`, JSON.stringify({ gzipBytes: initial, laterBytes: later, budgetBytes: BUDGET }) + "\n");
if (initial > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
