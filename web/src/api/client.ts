// The typed API client: request and response types come from infra/openapi.yaml (see
// `npm run types`), so a contract change the app does not follow fails `tsc`.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { session, signOut } from "../session";

type Schemas = components["schemas"];
export type Org = Schemas["Org"];
export type Member = Schemas["Member"];
/** An entry of `GET /orgs`: the organization and the caller's membership, or (where the
 * caller is suspended) only its id, name and that status. */
export type ListedOrg = paths["/orgs"]["get"]["responses"][200]["content"]["application/json"]["orgs"][number];
export type Invitation = Schemas["Invitation"];
export type InviteLink = Schemas["InviteLink"];
export type NewInviteLink = Schemas["NewInviteLink"];
export type AuditEvent = Schemas["AuditEvent"];
export type Preview = Schemas["InvitationPreview"];
export type InviteResult = Schemas["InviteResult"];
export type RemoveResult = Schemas["RemoveResult"];
export type Role = Schemas["Role"];
export type MemberStatus = Schemas["MemberStatus"];
type Problem = Schemas["Problem"];

/** A refusal of the API: its problem+json `code` (stable), `detail`, and the seconds of a
 * `Retry-After` header when there is one (`429 rate_limited`, `503 unavailable`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly retryAfter?: number,
  ) {
    super(detail || code);
  }
}

export const api = createClient<paths>({ baseUrl: "" });

type OrgNotFound = (orgId: string, schemaPath: string) => void;
const orgNotFound = new Set<OrgNotFound>();

/** Calls `listener` whenever a route under `/orgs/{orgId}` answers 404: the caller may have
 * been removed from that organization (or it was deleted). Returns the way to stop. */
export function onOrgNotFound(listener: OrgNotFound): () => void {
  orgNotFound.add(listener);
  return () => void orgNotFound.delete(listener);
}

api.use({
  onRequest({ request }) {
    const token = session()?.token;
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, schemaPath, params }) {
    // An expired or refused token (or none): back to sign-in, returning here afterwards.
    if (response.status === 401) signOut(location.pathname + location.search);
    const orgId = params.path?.orgId;
    if (response.status === 404 && typeof orgId === "string") orgNotFound.forEach((l) => l(orgId, schemaPath));
    return response;
  },
});

/** The data of a call, or its problem as an `ApiError`. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, "network", "");
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const problem = (error ?? {}) as Partial<Problem>;
  const retry = Number(response.headers.get("Retry-After") || NaN);
  throw new ApiError(response.status, problem.code ?? "unknown", problem.detail ?? "", retry >= 0 ? retry : undefined);
}
