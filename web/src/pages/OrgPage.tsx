// One organization: its name, the tabs (Members; Invite links, Activity and Settings for admins), and
// "Leave organization".
import { useEffect, useState } from "preact/hooks";
import { api, ok, type Member, type Org } from "../api/client";
import { sentence } from "../api/messages";
import { navigate, onLinkClick } from "../router";
import { canInvite, ROLE_LABEL } from "../roles";
import { Confirm } from "../components/Dialog";
import { ErrorText } from "../components/Status";
import { HomeLink } from "../components/HomeLink";
import { useAction } from "../components/useAction";
import { Members } from "./Members";
import { Links } from "./Links";
import { Activity } from "./Activity";
import { MemberDetails } from "./MemberDetails";
import { Settings } from "./Settings";
import type { OrgContext, Seats, Tab } from "./orgContext";


export function OrgPage({ orgId, tab, userId }: { orgId: string; tab: Tab; userId?: string }) {
  const [ctx, setCtx] = useState<{ org: Org; me: Member; seats?: Seats | undefined } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = async () => {
    try {
      const { org, membership, seats } = await ok(api.GET("/orgs/{orgId}", { params: { path: { orgId } } }));
      setCtx({ org, me: membership, seats });
      setError(null);
    } catch (e) {
      setCtx(null);
      setError(sentence(e));
    }
  };
  useEffect(() => void reload(), [orgId]);

  if (!ctx) {
    return (
      <section>
        <h1 tabIndex={-1}>{error ? "Organization unavailable" : "Loading…"}</h1>
        <ErrorText message={error} />
        {error && <HomeLink label="Back to your organizations" />}
      </section>
    );
  }

  const context: OrgContext = { ...ctx, reload };
  const admin = canInvite(ctx.me.role);
  const tabs: [Tab, string][] = [["members", "Members"]];
  if (admin) tabs.push(["links", "Invite links"], ["activity", "Activity"], ["settings", "Settings"]);

  return (
    <section>
      <div class="org-head">
        <div>
          <p class="crumbs">
            <a href="/" onClick={onLinkClick}>
              Organizations
            </a>
          </p>
          <h1 tabIndex={-1}>{ctx.org.name}</h1>
          <p class="muted">
            You are {article(ctx.me.role)} {ROLE_LABEL[ctx.me.role].toLowerCase()}. {ctx.org.memberCount}{" "}
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
            aria-current={tab === id && !userId ? "page" : undefined}
            onClick={onLinkClick}
          >
            {label}
          </a>
        ))}
      </nav>
      {userId ? (
        <MemberDetails context={context} userId={userId} />
      ) : tab === "links" && admin ? (
        <Links context={context} />
      ) : tab === "activity" && admin ? (
        <Activity context={context} />
      ) : tab === "settings" && admin ? (
        <Settings context={context} />
      ) : (
        <Members context={context} />
      )}
    </section>
  );
}

function article(role: string) {
  return role === "owner" || role === "admin" ? "an" : "a";
}

function Leave({ context }: { context: OrgContext }) {
  const [open, setOpen] = useState(false);
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
