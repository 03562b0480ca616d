// One organization: its name with the organization switcher (OrgSwitcher), the tabs (Members; Invite links, Activity and Settings for admins), and
// "Leave organization" (held back, with the reason, for its only active owner). A person
// removed while the page is open is told so and sent to their organizations.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, ApiError, ok, onOrgNotFound, type Member, type Org } from "../api/client";
import { sentence } from "../api/messages";
import { navigate, onLinkClick } from "../router";
import { article, ROLE_LABEL } from "../roles";
import { roleName, useCustomRoles } from "../customRoles";
import { Confirm } from "../components/Dialog";
import { ErrorText } from "../components/Status";
import { HomeLink } from "../components/HomeLink";
import { useAction } from "../components/useAction";
import { leaveNotice } from "../pageNotice";
import { Members } from "./Members";
import { OrgSwitcher } from "./OrgSwitcher";
import { lazy } from "../components/lazy";
import { usageMetrics } from "../usage";
import { config } from "../config";
import { can, type OrgContext, type Permission, type Seats, type Tab } from "./orgContext";

// The workspace and group pages load when first opened (build.mjs: code splitting).
const pages = () => import("./WorkspacePages");
const Workspaces = lazy(() => pages().then((m) => m.Workspaces));
const WorkspacePage = lazy(() => pages().then((m) => m.WorkspacePage));
const Groups = lazy(() => pages().then((m) => m.Groups));
const GroupPage = lazy(() => pages().then((m) => m.GroupPage));
// So do the other tabs and a member's page (with the audit events in sentences, audit.ts):
// the members table, where most visits start, needs none of them.
const Activity = lazy(() => import("./Activity").then((m) => m.Activity));
const MemberDetails = lazy(() => import("./MemberDetails").then((m) => m.MemberDetails));
const Links = lazy(() => import("./Links").then((m) => m.Links));
const Settings = lazy(() => import("./Settings").then((m) => m.Settings));

type Loaded = { org: Org; me: Member; seats?: Seats | undefined; onlyOwner: boolean; permissions: Permission[] };

/** Active owners of `orgId`, counted up to two; null when a few pages did not tell (the
 * list filters after paging: a page may hold no owner and still have a next one). */
async function activeOwners(orgId: string): Promise<number | null> {
  let cursor: string | undefined;
  let found = 0;
  for (let page = 0; page < 20; page++) {
    const answer = await ok(
      api.GET("/orgs/{orgId}/members", {
        params: { path: { orgId }, query: { role: "owner", status: "active", limit: 100, cursor } },
      }),
    );
    found += answer.members.length;
    if (found >= 2 || !answer.nextCursor) return Math.min(found, 2);
    cursor = answer.nextCursor;
  }
  return null;
}

/** `item`: a member's, workspace's or group's id (as `tab` says), for its own page. */
export function OrgPage({ orgId, tab, item }: { orgId: string; tab: Tab; item?: string }) {
  const [ctx, setCtx] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  // What the page showed last: once it loaded, a 404 means the person lost access meanwhile.
  const shown = useRef<Loaded | null>(null);
  const left = useRef(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const gone = () => {
    if (left.current || !shown.current) return;
    left.current = true;
    leaveNotice(`You were removed from ${shown.current.org.name}, or it was deleted.`);
    navigate("/");
  };

  const reload = async () => {
    // The owners are counted alongside when the viewer is (or, at first, may be) an owner.
    const owners = !shown.current || shown.current.me.role === "owner" ? activeOwners(orgId).catch(() => null) : null;
    try {
      const { org, membership, seats, you } = await ok(api.GET("/orgs/{orgId}", { params: { path: { orgId } } }));
      const owner = membership.role === "owner" && membership.status === "active";
      const count = owner ? await (owners ?? activeOwners(orgId).catch(() => null)) : null;
      const loaded = { org, me: membership, seats, onlyOwner: owner && count === 1, permissions: you.permissions };
      shown.current = loaded;
      setCtx(loaded);
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        if (shown.current) return gone();
        setError("You don't have access to this organization, or it no longer exists.");
      } else setError(sentence(e));
      setCtx(null);
    }
  };
  useEffect(() => {
    // Another organization (the switcher): nothing of the last one stays on the page.
    if (shown.current && shown.current.org.id !== orgId) setCtx(null);
    shown.current = null;
    left.current = false;
    void reload();
    // Any call of a tab that finds the organization gone for this person: is it gone, or
    // only what the call was about (a member removed meanwhile, whose name a list looks up)?
    // Reading the organization tells: one read at a time, at most one every two seconds.
    let checked = 0;
    const stop = onOrgNotFound((id, path) => {
      if (id !== orgId || !shown.current) return;
      if (path === "/orgs/{orgId}") return gone();
      if (Date.now() - checked < 2000) return;
      checked = Date.now();
      void ok(api.GET("/orgs/{orgId}", { params: { path: { orgId } } })).catch(() => undefined);
    });
    // Coming back to the tab reads it again: a removal meanwhile is told at once.
    const visible = () => document.visibilityState === "visible" && shown.current && void reload();
    document.addEventListener("visibilitychange", visible);
    return () => {
      stop();
      document.removeEventListener("visibilitychange", visible);
    };
  }, [orgId]);

  // The organization's name takes focus once it shows, when nothing else has it (as the
  // "Loading…" heading had it): a keyboard user goes on from the top of the page.
  const loadedId = ctx?.org.id;
  useEffect(() => {
    const at = document.activeElement;
    if (loadedId && (!at || at === document.body)) heading.current?.focus({ preventScroll: true });
  }, [loadedId]);

  if (!ctx) {
    return (
      <section>
        <h1 tabIndex={-1}>{error ? "Organization unavailable" : "Loading…"}</h1>
        <ErrorText message={error} />
        {error && <HomeLink />}
      </section>
    );
  }

  const context: OrgContext = { ...ctx, usageMetrics: usageMetrics(ctx.me.role), reload };
  const offered: Record<"links" | "activity" | "settings", boolean> = {
    links: can(ctx, "members:invite"),
    activity: can(ctx, "audit:read"),
    settings: can(ctx, "org:update") || can(ctx, "org:delete") || can(ctx, "roles:manage"),
  };
  const tabs: [Tab, string][] = [
    ["members", "Members"],
    ["workspaces", "Workspaces"],
    ["groups", "Groups"],
  ];
  if (offered.links) tabs.push(["links", "Invite links"]);
  if (offered.activity) tabs.push(["activity", "Activity"]);
  if (offered.settings) tabs.push(["settings", "Settings"]);

  return (
    <section>
      <div class="org-head">
        <div>
          <p class="crumbs">
            <a href="/" onClick={onLinkClick}>
              Organizations
            </a>
          </p>
          <div class="org-title">
            <h1 ref={heading} tabIndex={-1}>
              {ctx.org.name}
            </h1>
            <OrgSwitcher context={context} tab={tab} detail={!!item} />
          </div>
          <p class="muted">
            <YourRole context={context} /> {ctx.org.memberCount}{" "}
            {ctx.org.memberCount === 1 ? "member" : "members"}
            {ctx.seats && (
              <>
                {" "}
                · <span class="seats">{ctx.seats.used} of {ctx.seats.limit} seats used</span>
              </>
            )}
          </p>
        </div>
        <Leave context={context} />
      </div>
      <nav class="tabs" aria-label="Organization">
        {tabs.map(([id, label]) => (
          <a
            key={id}
            href={`/o/${orgId}/${id}`}
            aria-current={tab === id ? (item ? "true" : "page") : undefined}
            onClick={onLinkClick}
          >
            {label}
          </a>
        ))}
      </nav>
      {item && tab === "members" ? (
        <MemberDetails context={context} userId={item} />
      ) : item && tab === "workspaces" ? (
        <WorkspacePage context={context} workspaceId={item} />
      ) : item && tab === "groups" ? (
        <GroupPage context={context} groupId={item} />
      ) : tab === "workspaces" ? (
        <Workspaces context={context} />
      ) : tab === "groups" ? (
        <Groups context={context} />
      ) : tab === "links" && offered.links ? (
        <Links context={context} />
      ) : tab === "activity" && offered.activity ? (
        <Activity context={context} />
      ) : tab === "settings" && offered.settings ? (
        <Settings context={context} roles={item === "roles"} />
      ) : (
        <Members context={context} />
      )}
    </section>
  );
}

/** "You are a member.", or with a custom role "You are Billing admin (ranks as Member)." */
function YourRole({ context }: { context: OrgContext }) {
  const { me } = context;
  const customs = useCustomRoles(me.customRole ? context.org.id : "");
  if (me.customRole) return <>You are {roleName(me.role, me.customRole, customs)}.</>;
  return (
    <>
      You are {article(me.role)} {ROLE_LABEL[me.role].toLowerCase()}.
    </>
  );
}

function Leave({ context }: { context: OrgContext }) {
  const [open, setOpen] = useState(false);
  const reasonId = useId();
  const { busy, error, setError, run } = useAction();
  const leave = () =>
    run(
      async () => {
        await ok(
          api.DELETE("/orgs/{orgId}/members/{userId}", {
            params: { path: { orgId: context.org.id, userId: context.me.userId } },
          }),
        );
        navigate("/");
      },
      { leaving: true },
    );
  // The only active owner cannot leave: the button says why, and the ways out, beside it
  // (focusable still, so that the reason is heard with it).
  if (context.onlyOwner) {
    return (
      <div class="leave">
        <button type="button" class="secondary" aria-disabled="true" aria-describedby={reasonId}>
          Leave organization
        </button>
        <p class="muted reason" id={reasonId}>
          You are the only owner.{" "}
          {config().singleOwner ? "Transfer ownership to another member" : "Make someone else an owner"}, or{" "}
          <a href={`/o/${context.org.id}/settings`} onClick={onLinkClick}>
            delete the organization
          </a>
          .
        </p>
      </div>
    );
  }
  return (
    <>
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        Leave organization
      </button>
      {open && (
        <Confirm
          title={`Leave ${context.org.name}?`}
          body={<p>You will lose access to this organization until someone invites you again.</p>}
          confirm="Yes, leave"
          danger
          busy={busy}
          error={error}
          onConfirm={leave}
          onClose={() => {
            setOpen(false);
            setError(null);
          }}
        />
      )}
    </>
  );
}
