// The app's runtime settings: `/config.json`, served beside index.html and fetched once at
// start. The deploy script writes it from the stack's outputs; the local gateway serves the
// file named by ROSTER_WEB_CONFIG. No file (404) means the local gateway's dev sign-in.

export type OidcSignIn = {
  kind: "oidc";
  clientId: string;
  /** For example "openid email profile"; must include "openid" (the app uses the ID token). */
  scope: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Cognito managed login: "https://<domain>/signup" (takes the authorize parameters).
   * Absent: the authorization endpoint with prompt=create (OpenID Connect "Initiating User
   * Registration"). */
  signUpEndpoint?: string;
  /** Absent: sign-out only clears the tab's session. "oidc": end_session_endpoint with
   * client_id and post_logout_redirect_uri. "cognito": https://<domain>/logout
   * with client_id and logout_uri. */
  logout?: { endpoint: string; style: "oidc" | "cognito" };
  /** false: the provider admits sign-ups of invited addresses only (the stack's
   * AllowSelfSignUp=false), so the app offers "Create account" only on an email
   * invitation's page. Absent: true. */
  selfSignUp?: boolean;
};

/** A usage metric the app shows (API.md "Usage per member"): `key` as services report it,
 * `label` the words for it ("Credits"; default: the key). */
export type UsageMetric = { key: string; label: string };

export type WebConfig = {
  signIn:
    | { kind: "local" } // dev tokens from /_local/dev-token (roster-local only)
    | OidcSignIn;
  /** The metrics the host product reports, the first shown in the members table. The API
   * reads totals one metric at a time and keeps no list of the metrics reported, so the
   * deployment names them. Absent: the app shows no usage and asks for none. */
  usage?: { metrics: UsageMetric[] };
  /** true: admins and owners may add a user with a temporary password ("Add user", API.md
   * "Accounts"): the deployment has a user pool of its own (the stack's CreateUserPool).
   * Absent: false, only invitations (the route would answer 501). */
  addUser?: boolean;
  /** true: an organization has exactly one owner (ROSTER_SINGLE_OWNER): no role picker offers
   * Owner, and the owner's role and membership change only by a transfer. Absent: false. */
  singleOwner?: boolean;
};

let current: WebConfig = { signIn: { kind: "local" } };

export function config(): WebConfig {
  return current;
}

/** The OpenID Connect settings, or null in local mode. */
export function oidc(): OidcSignIn | null {
  return current.signIn.kind === "oidc" ? current.signIn : null;
}

/** Fetches and checks `/config.json`; throws an Error whose message says what is wrong. */
export async function loadConfig(): Promise<void> {
  let response: Response;
  try {
    response = await fetch("/config.json", { cache: "no-cache" });
  } catch {
    throw new Error("/config.json could not be fetched.");
  }
  if (response.status === 404) return;
  if (!response.ok) throw new Error(`/config.json answered ${response.status}.`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new Error("/config.json is not JSON.");
  }
  current = parseConfig(json);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** `json` as a WebConfig, or an Error naming the first field that is wrong. */
export function parseConfig(json: unknown): WebConfig {
  const fail = (field: string, what: string): never => {
    throw new Error(`${field} ${what}.`);
  };
  const only = (o: Json, at: string, keys: string[]) => {
    const extra = Object.keys(o).find((k) => !keys.includes(k));
    if (extra) fail(at ? `${at}.${extra}` : extra, "is not a known setting");
  };
  const text = (o: Json, key: string, at: string): string => {
    const v = o[key];
    return typeof v === "string" && v.trim() ? v : fail(`${at}.${key}`, "must be a non-empty string");
  };
  const url = (o: Json, key: string, at: string): string => {
    const v = text(o, key, at);
    let u: URL | null = null;
    try {
      u = new URL(v); // not URL.parse: Safari before 18 lacks it
    } catch {
      // not a URL: refused below
    }
    const loopback = u && ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
    if (!u || !(u.protocol === "https:" || (u.protocol === "http:" && loopback)) || u.hash)
      fail(`${at}.${key}`, "must be an https URL without a fragment");
    return v;
  };

  if (!isObject(json)) fail("The configuration", "must be a JSON object");
  const root = json as Json;
  only(root, "", ["signIn", "usage", "addUser", "singleOwner"]);
  const usage = root.usage === undefined ? undefined : parseUsage(root.usage, fail, only);
  const flags: Pick<WebConfig, "addUser" | "singleOwner"> = {};
  for (const key of ["addUser", "singleOwner"] as const) {
    const v = root[key];
    if (v === undefined) continue;
    if (typeof v !== "boolean") fail(key, "must be true or false");
    flags[key] = v as boolean;
  }
  const s = root.signIn;
  if (!isObject(s)) return fail("signIn", "must be an object");
  const withSettings = (config: WebConfig): WebConfig => ({ ...config, ...(usage ? { usage } : {}), ...flags });
  if (s.kind === "local") {
    only(s, "signIn", ["kind"]);
    return withSettings({ signIn: { kind: "local" } });
  }
  if (s.kind !== "oidc") fail("signIn.kind", 'must be "local" or "oidc"');
  only(s, "signIn", ["kind", "clientId", "scope", "authorizationEndpoint", "tokenEndpoint", "signUpEndpoint", "logout", "selfSignUp"]);
  const scope = text(s, "scope", "signIn");
  if (!scope.split(" ").includes("openid")) fail("signIn.scope", 'must include "openid"');
  const signIn: OidcSignIn = {
    kind: "oidc",
    clientId: text(s, "clientId", "signIn"),
    scope,
    authorizationEndpoint: url(s, "authorizationEndpoint", "signIn"),
    tokenEndpoint: url(s, "tokenEndpoint", "signIn"),
  };
  if (s.signUpEndpoint !== undefined) signIn.signUpEndpoint = url(s, "signUpEndpoint", "signIn");
  if (s.selfSignUp !== undefined) {
    if (typeof s.selfSignUp !== "boolean") fail("signIn.selfSignUp", "must be true or false");
    signIn.selfSignUp = s.selfSignUp as boolean;
  }
  if (s.logout !== undefined) {
    const l = s.logout;
    if (!isObject(l)) return fail("signIn.logout", "must be an object");
    only(l, "signIn.logout", ["endpoint", "style"]);
    if (l.style !== "oidc" && l.style !== "cognito") fail("signIn.logout.style", 'must be "oidc" or "cognito"');
    signIn.logout = { endpoint: url(l, "endpoint", "signIn.logout"), style: l.style as "oidc" | "cognito" };
  }
  return withSettings({ signIn });
}

/** `usage`: `{metrics: [{key, label?}, …]}`, 1–10 metrics of the API's pattern, none twice. */
function parseUsage(
  u: unknown,
  fail: (field: string, what: string) => never,
  only: (o: Json, at: string, keys: string[]) => void,
): { metrics: UsageMetric[] } {
  if (!isObject(u)) return fail("usage", "must be an object");
  only(u, "usage", ["metrics"]);
  const list = u.metrics;
  if (!Array.isArray(list) || list.length < 1 || list.length > 10) return fail("usage.metrics", "must be a list of 1 to 10 metrics");
  const metrics = list.map((m, i): UsageMetric => {
    const at = `usage.metrics[${i}]`;
    if (!isObject(m)) return fail(at, "must be an object");
    only(m, at, ["key", "label"]);
    if (typeof m.key !== "string" || !/^[a-z0-9_.-]{1,64}$/.test(m.key)) fail(`${at}.key`, "must match [a-z0-9_.-]{1,64}");
    if (m.label !== undefined && (typeof m.label !== "string" || !m.label.trim())) fail(`${at}.label`, "must be a non-empty string");
    return { key: m.key as string, label: ((m.label as string | undefined) ?? (m.key as string)).trim() };
  });
  if (new Set(metrics.map((m) => m.key)).size !== metrics.length) fail("usage.metrics", "must not name a metric twice");
  return { metrics };
}
