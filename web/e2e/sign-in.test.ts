// Signing in with an OpenID Connect provider: the app against a gateway that accepts the
// provider's ID tokens (ROSTER_E2E_OIDC_URL, started by tests/stack/test.sh with
// ROSTER_OIDC_ISSUER and a /config.json of kind "oidc"), and the real provider of
// e2e/oidc/provider.ts, started here on ROSTER_E2E_OIDC_ISSUER's port, with invitation-only
// sign-up decided by that gateway's /_local/pre-sign-up (the Cognito trigger's handler) and
// ID tokens carrying what its /_local/pre-token-generation adds (roster_orgs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Page } from "playwright-core";
import { apiAt, BASE, checkA11y, latestMail, mailbox, newPage, person, SES_STORE, shot, unique, useBrowser } from "./harness";
import { startProvider, type LocalProvider } from "./oidc/provider";
import { pathOf, tokenOf } from "./invite-helpers";

const APP = process.env.ROSTER_E2E_OIDC_URL ?? "";
const ISSUER = process.env.ROSTER_E2E_OIDC_ISSUER ?? "";
const CLIENT = process.env.ROSTER_E2E_OIDC_CLIENT ?? "roster-web";
const skip = APP && ISSUER ? false : "needs ROSTER_E2E_OIDC_URL and ROSTER_E2E_OIDC_ISSUER (tests/stack/test.sh sets them)";
/** What Cognito shows when the pre-sign-up trigger refuses (the handler's message inside). */
const INVITATION_ONLY =
  "PreSignUp failed with error Sign-up is by invitation only. Use the address your invitation was sent to.";
const PASSWORD = "a long enough password";

const browser = useBrowser();
let provider: LocalProvider;
before(async () => {
  if (skip) return;
  provider = await startProvider({
    port: Number(new URL(ISSUER).port),
    clientId: CLIENT,
    appOrigins: [APP],
    sesUrl: new URL(SES_STORE).origin,
    preSignUpUrl: `${APP}/_local/pre-sign-up`,
    // The gateway runs with ROSTER_CREATE_ORG_ON_SIGN_UP (tests/stack/test.sh): an invited
    // sign-up gets no organization of its own, a stranger's (with sign-up open) does.
    postConfirmationUrl: `${APP}/_local/post-confirmation`,
    preTokenGenerationUrl: `${APP}/_local/pre-token-generation`,
  });
});
after(async () => provider?.close());

const atProvider = (path: string) => (url: URL) => url.origin === ISSUER && url.pathname.startsWith(path);
const atApp = (path: string) => (url: URL) => url.origin === APP && url.pathname === path;

/** The tab's session as the app keeps it. */
async function sessionOf(page: Page): Promise<{ token: string; user: { sub: string; email?: string; name?: string } } | null> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("roster.session") ?? "null"));
}

function jwtPart(token: string, i: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[i]!, "base64url").toString("utf8"));
}

/** The verification code the provider mailed to `address` (newest), waiting briefly for it. */
async function verificationCode(address: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const mail = (await mailbox(address)).filter((m) => m.subject === "Your verification code").at(-1);
    const code = mail && /\b(\d{6})\b/.exec(mail.text)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no verification code for ${address}`);
}

test("signs in with the provider (authorization code + PKCE), calls the API with the ID token, and signs out", { skip }, async () => {
  const who = person("olga");
  provider.addAccount({ email: who.email, name: who.name, password: PASSWORD, sub: who.sub });
  const orgName = unique("Provider Co");
  const { org } = await apiAt<{ org: { id: string } }>(APP, who, "POST", "/orgs", { name: orgName });

  const page = await newPage(browser(), 1280, APP);
  const sent: { url: string; body: string }[] = [];
  page.on("request", (r) => sent.push({ url: r.url(), body: r.postData() ?? "" }));
  // A page that needs signing in: back there afterwards.
  await page.goto(`/o/${org.id}/members`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByLabel("User id").count(), 0, "no dev sign-in form with a provider configured");
  await checkA11y(page, "sign-in (provider)");
  await shot(page, "oidc-sign-in");

  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(atProvider("/interaction/"));
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(page, "oidc-provider-sign-in");
  const authorize = new URL(sent.find((r) => r.url.startsWith(`${ISSUER}/auth?`))!.url).searchParams;
  assert.equal(authorize.get("response_type"), "code");
  assert.equal(authorize.get("client_id"), CLIENT);
  assert.equal(authorize.get("redirect_uri"), `${APP}/auth/callback`);
  assert.equal(authorize.get("scope"), "openid email profile");
  assert.equal(authorize.get("code_challenge_method"), "S256");
  assert.match(authorize.get("state") ?? "", /^[\w-]{22}$/, "state: 16 random bytes, nothing else");
  assert.match(authorize.get("nonce") ?? "", /^[\w-]{22}$/);
  assert.equal(authorize.get("prompt"), null);

  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();

  // Back on the page it started from, and the API answers (the gateway took the ID token).
  await page.waitForURL(atApp(`/o/${org.id}/members`));
  await page.getByRole("heading", { name: orgName, level: 1 }).waitFor();
  await page.getByText(`Signed in as ${who.name}`).first().waitFor();
  const exchange = sent.find((r) => r.url === `${ISSUER}/token`)!;
  const form = new URLSearchParams(exchange.body);
  assert.equal(form.get("grant_type"), "authorization_code");
  assert.equal(form.get("client_id"), CLIENT);
  assert.equal(form.get("redirect_uri"), `${APP}/auth/callback`);
  assert.equal(form.get("client_secret"), null, "a public client");
  const challenge = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url");
  assert.equal(challenge, authorize.get("code_challenge"), "the verifier matches the challenge sent first");

  const session = (await sessionOf(page))!;
  const header = jwtPart(session.token, 0);
  const claims = jwtPart(session.token, 1);
  assert.equal(header.alg, "RS256");
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.aud, CLIENT);
  assert.equal(claims.sub, who.sub);
  assert.equal(claims.nonce, authorize.get("nonce"));
  // As the stack's pool with its pre-token-generation trigger: the caller's organizations.
  assert.deepEqual(claims.roster_orgs, { [org.id]: "owner" });
  assert.equal(claims.roster_orgs_truncated, undefined);
  assert.deepEqual(session.user, { sub: who.sub, email: who.email, name: who.name, emailVerified: true });
  // The gateway checks the signature: the same token with its claims changed is refused.
  const get = (token: string) => fetch(`${APP}/orgs`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal((await get(session.token)).status, 200);
  const [h, , sig] = session.token.split(".");
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
  assert.equal((await get(`${h}.${forged}.${sig}`)).status, 401);

  await page.goto("/");
  await page.getByRole("link", { name: orgName }).waitFor();
  await checkA11y(page, "organizations (signed in with the provider)");
  await shot(page, "oidc-signed-in");

  // Signing out ends the provider's session too (its end-session page), then the app's start page.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(atProvider("/session/end"));
  await shot(page, "oidc-provider-sign-out");
  const endSession = new URL(page.url()).searchParams;
  assert.equal(endSession.get("id_token_hint"), null, "the bearer token never goes into a URL");
  assert.equal(endSession.get("client_id"), CLIENT);
  assert.equal(endSession.get("post_logout_redirect_uri"), `${APP}/`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(atApp("/sign-in"));
  assert.equal(await sessionOf(page), null);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Password").waitFor(); // the provider asks again: its session ended
});

test("an invitee creates an account from the invitation (invitation-only sign-up), verifies the address and joins", { skip }, async () => {
  const owner = person("pam");
  const orgName = unique("Sign-up Co");
  const { org } = await apiAt<{ org: { id: string } }>(APP, owner, "POST", "/orgs", { name: orgName });
  const invitee = person("quentin");
  const since = Math.floor(Date.now() / 1000) - 1;
  await apiAt(APP, owner, "POST", `/orgs/${org.id}/invitations`, { invitations: [{ email: invitee.email, role: "member" }] });
  const acceptUrl = (await latestMail(invitee.email, since)).acceptUrl;
  assert.ok(acceptUrl.startsWith(`${APP}/invite?token=`), `the invitation links to the app: ${acceptUrl}`);
  const acceptPath = pathOf(acceptUrl);

  const page = await newPage(browser(), 1280, APP);
  await page.goto(acceptPath);
  await page.getByRole("heading", { name: `Join ${orgName}` }).waitFor();
  await page.getByText(`No account yet? Create one with ${invitee.email}, then accept.`).waitFor();
  await checkA11y(page, "accept (signed out, provider)");
  await shot(page, "oidc-accept-signed-out");

  await page.getByRole("link", { name: "Create account" }).click();
  await page.waitForURL(atProvider("/interaction/"));
  await page.getByRole("heading", { name: "Create account" }).waitFor();
  assert.equal(await page.getByLabel("Email").inputValue(), invitee.email, "the invited address, prefilled");
  await page.getByLabel("Name").fill("Quentin Quill");
  await page.getByLabel("Password").fill(PASSWORD);
  await shot(page, "oidc-provider-sign-up");
  await page.getByRole("button", { name: "Create account" }).click();

  await page.getByRole("heading", { name: "Verify your email" }).waitFor();
  assert.equal(provider.accountByEmail(invitee.email), undefined, "no account before the address is verified");
  const code = await verificationCode(invitee.email);
  await page.getByLabel("Verification code").fill(code === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").filter({ hasText: "That code is not right." }).waitFor();
  await page.getByLabel("Verification code").fill(code);
  await shot(page, "oidc-provider-verify");
  await page.getByRole("button", { name: "Verify" }).click();

  // The same accept page, now signed in as the new account.
  await page.waitForURL((url) => url.origin === APP && url.pathname + url.search === acceptPath);
  await page.getByText("Signed in as Quentin Quill").first().waitFor();
  await checkA11y(page, "accept (signed in after sign-up)");
  await shot(page, "oidc-accept-after-sign-up");
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL(atApp(`/o/${org.id}/members`));
  await page.getByRole("heading", { name: orgName, level: 1 }).waitFor();

  const account = provider.accountByEmail(invitee.email)!;
  const { members } = await apiAt<{ members: { userId: string; email: string; name: string; role: string }[] }>(
    APP,
    owner,
    "GET",
    `/orgs/${org.id}/members`,
  );
  const joined = members.find((m) => m.userId === account.sub);
  assert.deepEqual(joined && { email: joined.email, name: joined.name, role: joined.role }, {
    email: invitee.email,
    name: "Quentin Quill",
    role: "member",
  });
  // The invitation's token stayed in the app: nothing the provider received carries it.
  const token = tokenOf(acceptPath);
  const leaks = provider.requests.filter((r) => r.url.includes(token) || r.referer.includes(token));
  assert.deepEqual(leaks, []);
});

test("a stranger's sign-up is refused (invitation-only) and no account is created", { skip }, async () => {
  const stranger = person("rex");
  const page = await newPage(browser(), 1280, APP);
  await page.goto("/sign-in");
  // Sign-up is closed to all but invited addresses (selfSignUp: false): the app offers none...
  await page.getByText("New accounts are by invitation: open the link in your invitation email to create yours.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Create account" }).count(), 0, "no sign-up offered");
  await checkA11y(page, "sign-in (invitation-only sign-up)");
  await shot(page, "oidc-sign-in-invitation-only");
  // ...but the provider's own sign-in page links to its sign-up, as Cognito's does: the
  // pre-sign-up check is what refuses.
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(atProvider("/interaction/"));
  await page.getByRole("link", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Create account" }).waitFor();
  await page.getByLabel("Email").fill(stranger.email);
  await page.getByLabel("Name").fill(stranger.name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal(await alert.textContent(), INVITATION_ONLY);
  assert.equal(await page.getByLabel("Email").inputValue(), stranger.email, "what was typed stays");
  await shot(page, "oidc-provider-sign-up-refused");
  assert.equal(provider.accountByEmail(stranger.email), undefined);
  assert.deepEqual(await mailbox(stranger.email), [], "no verification code was sent");
  // Nor can the stranger sign in with what they chose.
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(stranger.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
});

test("with sign-up open and CreateOrgOnSignUp, a new user lands in an organization of their own, as its owner", { skip }, async () => {
  // The deployment's other sign-up setting: anyone may sign up (no pre-sign-up trigger).
  const invitationOnly = provider.options.preSignUpUrl;
  provider.options.preSignUpUrl = undefined;
  try {
    const who = person("zoe");
    const page = await newPage(browser(), 1280, APP);
    await page.goto("/sign-in");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(atProvider("/interaction/"));
    await page.getByRole("link", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Create account" }).waitFor();
    await page.getByLabel("Email").fill(who.email);
    await page.getByLabel("Name").fill("Zoe Ortiz");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Verify your email" }).waitFor();
    await page.getByLabel("Verification code").fill(await verificationCode(who.email));
    await page.getByRole("button", { name: "Verify" }).click();

    // Back in the app, signed in: their organization is there from the first minute.
    await page.waitForURL((url) => url.origin === APP && !url.pathname.startsWith("/auth/"));
    await page.getByText("Zoe Ortiz's organization").first().waitFor();
    await checkA11y(page, "first sign-in after sign-up (own organization)");
    await shot(page, "oidc-sign-up-own-organization");
    const account = provider.accountByEmail(who.email)!;
    const mine = await apiAt<{ orgs: { org: { id: string; name: string }; membership: { role: string } }[] }>(
      APP,
      { ...who, sub: account.sub, name: "Zoe Ortiz" },
      "GET",
      "/orgs",
    );
    assert.deepEqual(
      mine.orgs.map((o) => [o.org.name, o.membership.role]),
      [["Zoe Ortiz's organization", "owner"]],
    );
  } finally {
    provider.options.preSignUpUrl = invitationOnly;
  }
});

test("an invite link's page offers no new account while sign-up is by invitation only", { skip }, async () => {
  const owner = person("lena");
  const orgName = unique("Link Co");
  const { org } = await apiAt<{ org: { id: string } }>(APP, owner, "POST", "/orgs", { name: orgName });
  const { link } = await apiAt<{ link: { url: string } }>(APP, owner, "POST", `/orgs/${org.id}/invite-links`, {});
  const page = await newPage(browser(), 1280, APP);
  await page.goto(pathOf(link.url));
  await page.getByRole("heading", { name: `Join ${orgName}` }).waitFor();
  await page
    .getByText("New accounts are by email invitation only: sign in with your account, or ask whoever shared this link to invite your address.")
    .waitFor();
  assert.equal(await page.getByRole("link", { name: "Create account" }).count(), 0, "a link names no address to sign up");
  await page.getByRole("link", { name: "Sign in to accept" }).waitFor();
  await checkA11y(page, "accept a link (signed out, invitation-only sign-up)");
  await shot(page, "oidc-accept-link-invitation-only");
});

test("a callback with a wrong state is refused; a sign-in cancelled at the provider says so", { skip }, async () => {
  const who = person("sven");
  provider.addAccount({ email: who.email, name: who.name, password: PASSWORD });
  let page = await newPage(browser(), 1280, APP);
  await page.goto("/sign-in");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(PASSWORD);
  // A real code for this tab's sign-in, held back on its way to the app (whose script does
  // not load)...
  await page.route(`${APP}/main.js`, (route) => route.abort());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(atApp("/auth/callback"));
  const code = new URL(page.url()).searchParams.get("code") ?? "";
  assert.ok(code, "the provider issued a code");
  await page.unrouteAll();

  // ...then delivered with another state: refused before any token request.
  const tokenRequests: string[] = [];
  page.on("request", (r) => void (r.url().startsWith(`${ISSUER}/token`) && tokenRequests.push(r.url())));
  await page.goto(`/auth/callback?code=${encodeURIComponent(code)}&state=not-the-state-it-sent`);
  await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
  assert.equal(
    await page.getByRole("alert").textContent(),
    "This sign-in response does not belong to a sign-in started in this tab.",
  );
  assert.deepEqual(tokenRequests, []);
  assert.equal(await sessionOf(page), null);
  assert.equal(new URL(page.url()).search, "", "the code is gone from the address");
  await checkA11y(page, "callback (wrong state)");
  await shot(page, "oidc-callback-wrong-state");
  await page.getByRole("link", { name: "Back to sign in" }).click();
  await page.waitForURL(atApp("/sign-in"));

  // The provider's own refusal (someone cancels there) comes back in words.
  await page.context().close();
  page = await newPage(browser(), 1280, APP);
  await page.goto(`/sign-in?next=${encodeURIComponent("/o/some-org/members")}`);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(atProvider("/interaction/"));
  await page.getByRole("button", { name: "Cancel and go back" }).click();
  await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
  assert.equal(await page.getByRole("alert").textContent(), "The sign-in was cancelled or refused.");
  await page.getByText("The sign-in service said: “Cancelled at the sign-in page.”").waitFor();
  await checkA11y(page, "callback (cancelled)");
  await shot(page, "oidc-callback-cancelled");
  await page.getByRole("link", { name: "Back to sign in" }).click();
  await page.waitForURL((url) => atApp("/sign-in")(url) && url.searchParams.get("next") === "/o/some-org/members");
  assert.equal(await sessionOf(page), null);
});

test("an expired ID token signs the person out to the sign-in page, which returns to where they were", { skip }, async () => {
  const who = person("tara");
  provider.addAccount({ email: who.email, name: who.name, password: PASSWORD, sub: who.sub });
  const { org } = await apiAt<{ org: { id: string } }>(APP, who, "POST", "/orgs", { name: unique("Clock Co") });
  const page = await newPage(browser(), 1280, APP);
  await page.clock.install();
  await page.goto(`/o/${org.id}/members`);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(atApp(`/o/${org.id}/members`));
  const exp = jwtPart((await sessionOf(page))!.token, 1).exp as number;

  await page.clock.fastForward(exp * 1000 - Date.now() + 1000);
  await page.waitForURL((url) => atApp("/sign-in")(url) && url.searchParams.get("next") === `/o/${org.id}/members`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await sessionOf(page), null);
});

test("signed in with another account, the accept page's switch asks the provider for a fresh sign-in as the invited address", { skip }, async () => {
  const owner = person("uma");
  const { org } = await apiAt<{ org: { id: string } }>(APP, owner, "POST", "/orgs", { name: unique("Switch Co") });
  const invitee = person("vera");
  const other = person("walt");
  provider.addAccount({ email: other.email, name: other.name, password: PASSWORD });
  provider.addAccount({ email: invitee.email, name: invitee.name, password: PASSWORD });
  const since = Math.floor(Date.now() / 1000) - 1;
  await apiAt(APP, owner, "POST", `/orgs/${org.id}/invitations`, { invitations: [{ email: invitee.email }] });
  const acceptPath = pathOf((await latestMail(invitee.email, since)).acceptUrl);

  const page = await newPage(browser(), 1280, APP);
  await page.goto(acceptPath);
  await page.getByRole("link", { name: "Sign in to accept" }).click();
  await page.waitForURL(atProvider("/interaction/"));
  assert.equal(await page.getByLabel("Email").inputValue(), invitee.email, "login_hint: the invited address");
  await page.getByLabel("Email").fill(other.email); // but someone else signs in
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.origin === APP && url.pathname + url.search === acceptPath);
  // The page says so before anyone presses Accept (there is none to press).
  await page.getByText(`This invitation is for ${invitee.email}.`).waitFor();
  await page.getByRole("button", { name: "Sign out and use another account" }).click();

  // The provider still has Walt's session: prompt=login makes it ask anyway.
  await page.waitForURL(atProvider("/interaction/"));
  assert.equal(await page.getByLabel("Email").inputValue(), invitee.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.origin === APP && url.pathname + url.search === acceptPath);
  await page.getByText(`Signed in as ${invitee.name}`).first().waitFor();
  await page.getByRole("button", { name: "Accept" }).click();
  await page.waitForURL(atApp(`/o/${org.id}/members`));
});

test("with Cognito's managed login: Create account opens its /signup page, Sign out its /logout", async () => {
  const cognito = "https://roster-test.auth.eu-west-1.amazoncognito.com";
  const config = {
    signIn: {
      kind: "oidc",
      clientId: "cognito-client",
      scope: "openid email profile",
      authorizationEndpoint: `${cognito}/oauth2/authorize`,
      tokenEndpoint: `${cognito}/oauth2/token`,
      signUpEndpoint: `${cognito}/signup`,
      logout: { endpoint: `${cognito}/logout`, style: "cognito" },
    },
  };
  const page = await newPage(browser(), 1280, BASE);
  await page.route(`${BASE}/config.json`, (route) => route.fulfill({ json: config }));
  const visited: URL[] = [];
  await page.route(`${cognito}/**`, (route) => {
    visited.push(new URL(route.request().url()));
    return route.fulfill({ contentType: "text/html", body: "<!doctype html><title>Cognito</title><h1>Cognito</h1>" });
  });
  await page.goto(`/sign-in?next=${encodeURIComponent("/invite?token=secret-token")}&email=ann%40example.com`);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${cognito}/signup?**`);
  const signUp = visited.at(-1)!.searchParams;
  assert.equal(signUp.get("client_id"), "cognito-client");
  assert.equal(signUp.get("login_hint"), "ann@example.com");
  assert.equal(signUp.get("prompt"), null, "Cognito's /signup is a sign-up page of its own");
  assert.equal(signUp.get("code_challenge_method"), "S256");
  assert.ok(!visited.at(-1)!.href.includes("secret-token"), "the return path stays in the tab");

  // Signed in (a dev token will do for this gateway), then signing out goes to Cognito's /logout.
  const who = person("yan");
  const { token } = (await (
    await fetch(`${BASE}/_local/dev-token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sub: who.sub }) })
  ).json()) as { token: string };
  await page.goto("/sign-in");
  await page.evaluate((t) => sessionStorage.setItem("roster.session", JSON.stringify({ token: t, user: { sub: "yan", emailVerified: true } })), token);
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${cognito}/logout?**`);
  const logout = visited.at(-1)!.searchParams;
  assert.deepEqual(Object.fromEntries(logout), { client_id: "cognito-client", logout_uri: `${BASE}/` });
  assert.equal(await page.evaluate(() => sessionStorage.getItem("roster.session")), null);
});

test("a /config.json that is not valid shows what is wrong instead of a blank page", async () => {
  const page = await newPage(browser(), 1280, BASE);
  const bad = { signIn: { kind: "oidc", clientId: "roster-web", scope: "openid", authorizationEndpoint: "https://auth.example.com/authorize" } };
  await page.route(`${BASE}/config.json`, (route) => route.fulfill({ json: bad }));
  await page.goto("/");
  await page.getByRole("heading", { name: "Roster cannot start" }).waitFor();
  assert.equal(
    await page.getByRole("alert").textContent(),
    "The app's settings are not valid: signIn.tokenEndpoint must be a non-empty string.",
  );
  await checkA11y(page, "configuration problem");
  await shot(page, "config-invalid");
});
