// The deployed distribution and the local gateway answer the same paths the same way: the
// CloudFront Function in infra/template.yaml (AppPaths) turns every path without a file
// extension into /index.html, and the local gateway, which `make run` and these tests use,
// must do exactly that too. The function's own code is run here, taken from the template.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE } from "./harness";

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), "../../infra/template.yaml");

/** AppPaths' FunctionCode: the indented block after `FunctionCode: |`. */
function viewerRequestFunction(): (event: { request: { uri: string } }) => { uri: string } {
  const lines = readFileSync(TEMPLATE, "utf8").split("\n");
  const start = lines.findIndex((l) => /^\s+FunctionCode: \|\s*$/.test(l));
  assert.ok(start > 0, "AppPaths' FunctionCode not found in the template");
  const indent = lines[start + 1]!.match(/^\s*/)![0];
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== "" && !line.startsWith(indent)) break;
    body.push(line.slice(indent.length));
  }
  return new Function(`${body.join("\n")}\nreturn handler;`)();
}

const PATHS = [
  "/",
  "/sign-in",
  "/invite",
  "/auth/callback",
  "/o/org_1/members",
  "/o/org_1/members/user-1",
  "/o/org_1/members/apple.001234.abcd",
  "/o/org_1/settings",
  "/main.js",
  "/styles.css",
  "/index.html",
  "/favicon.ico",
  "/no/such/file.js",
];

test("the local gateway serves the app's paths as the deployed CloudFront Function does", async () => {
  const handler = viewerRequestFunction();
  const index = await (await fetch(`${BASE}/index.html`)).text();
  for (const path of PATHS) {
    const rewritten = handler({ request: { uri: path } }).uri;
    const response = await fetch(`${BASE}${path}`);
    const body = await response.text();
    if (rewritten === "/index.html") {
      assert.equal(response.status, 200, `${path}: the app's page`);
      assert.equal(body, index, `${path}: CloudFront serves index.html, the gateway something else`);
    } else {
      assert.equal(rewritten, path, `${path}: a file's path is left as it is`);
      assert.notEqual(body, index, `${path}: CloudFront asks the bucket for ${path}, the gateway served index.html`);
    }
  }
});

/** A Content-Security-Policy as directive → sources, connect-src kept to 'self' (the sign-in
 * provider's origin, added to it, differs between the stack and the local gateway). */
function directives(policy: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of policy.split(";").map((p) => p.trim()).filter(Boolean)) {
    const [name, ...sources] = part.split(/\s+/);
    map.set(name!, (name === "connect-src" ? sources.filter((s) => s === "'self'") : sources).join(" "));
  }
  return map;
}

test("the local gateway sends the deployed distribution's security headers", async () => {
  const template = readFileSync(TEMPLATE, "utf8");
  const deployed = template.match(/"(default-src [^"]*)"/)?.[1];
  assert.ok(deployed, "AppHeaders' Content-Security-Policy not found in the template");
  assert.match(template, /ReferrerPolicy: \{ Override: true, ReferrerPolicy: no-referrer \}/);
  assert.match(template, /ContentTypeOptions: \{ Override: true \}/);
  const response = await fetch(`${BASE}/`);
  const local = response.headers.get("content-security-policy");
  assert.ok(local, "the local gateway sends no Content-Security-Policy");
  assert.deepEqual(
    directives(local),
    directives(deployed.replace("${SignIn}", "")),
    "the local app's CSP differs from the deployed one",
  );
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
});
