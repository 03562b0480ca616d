// Settings (admins and owners): the organization's name and, for owners only, the danger
// zone with "Delete organization" (confirmed by typing the name). Nothing is shown as done
// before the API has answered.
import { useId, useState } from "preact/hooks";
import { api, ok } from "../api/client";
import { navigate, onLinkClick } from "../router";
import { lazy } from "../components/lazy";
import { Dialog } from "../components/Dialog";
import { ErrorText, Notice } from "../components/Status";
import { useAction } from "../components/useAction";
import { can, type OrgContext } from "./orgContext";

// The Roles tab loads when first opened (only owners see it).
const Roles = lazy(() => import("./settings/Roles").then((m) => m.Roles));

/** `roles`: the Roles tab (`/o/{orgId}/settings/roles`, with `roles:manage`) rather than General. */
export function Settings({ context, roles }: { context: OrgContext; roles?: boolean }) {
  const manage = can(context, "roles:manage");
  const general = can(context, "org:update") || can(context, "org:delete");
  const showRoles = manage && (roles || !general);
  const base = `/o/${context.org.id}/settings`;
  return (
    <div class={showRoles ? "settings wide" : "settings"}>
      {manage && (
        <nav class="subtabs" aria-label="Settings">
          {general && (
            <a href={base} aria-current={showRoles ? undefined : "page"} onClick={onLinkClick}>
              General
            </a>
          )}
          <a href={`${base}/roles`} aria-current={showRoles ? "page" : undefined} onClick={onLinkClick}>
            Roles
          </a>
        </nav>
      )}
      {showRoles ? (
        <Roles context={context} />
      ) : (
        <>
          {can(context, "org:update") && <Rename context={context} />}
          {can(context, "org:delete") && <DangerZone context={context} />}
        </>
      )}
    </div>
  );
}

function Rename({ context }: { context: OrgContext }) {
  const [name, setName] = useState(context.org.name);
  const [notice, setNotice] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const inputId = useId();

  const submit = (e: Event) => {
    e.preventDefault();
    setNotice(null);
    void run(async () => {
      const { org } = await ok(
        api.PATCH("/orgs/{orgId}", { params: { path: { orgId: context.org.id } }, body: { name } }),
      );
      setName(org.name);
      setNotice("Saved.");
      await context.reload(); // the header and every tab show the new name
    });
  };

  return (
    <section class="card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>General</h2>
      <p class="muted">Members see it in the app, and invitations name it.</p>
      <form class="name-form" onSubmit={submit}>
        <label for={inputId}>Organization name</label>
        <div class="field-row">
          <input
            id={inputId}
            name="name"
            required
            maxLength={100}
            autoComplete="off"
            value={name}
            onInput={(e) => {
              setName(e.currentTarget.value);
              setNotice(null);
            }}
          />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? "Saving…" : "Save name"}
          </button>
        </div>
      </form>
      <ErrorText message={error} />
      <Notice message={notice} />
    </section>
  );
}

function DangerZone({ context }: { context: OrgContext }) {
  const [open, setOpen] = useState(false);
  return (
    <section class="card danger-zone" aria-labelledby="danger-zone-title">
      <h2 id="danger-zone-title">Danger zone</h2>
      <div class="danger-row">
        <div>
          <p class="strong">Delete this organization</p>
          <p class="muted">Everyone loses access at once, and its data is then removed permanently.</p>
        </div>
        <button type="button" class="danger" onClick={() => setOpen(true)}>
          Delete organization
        </button>
      </div>
      {open && <DeleteDialog context={context} onClose={() => setOpen(false)} />}
    </section>
  );
}

function DeleteDialog({ context, onClose }: { context: OrgContext; onClose: () => void }) {
  const { org } = context;
  const [typed, setTyped] = useState("");
  const { busy, error, run } = useAction();
  const inputId = useId();
  const matches = typed === org.name;

  const submit = (e: Event) => {
    e.preventDefault();
    if (!matches) return;
    void run(
      async () => {
        await ok(api.DELETE("/orgs/{orgId}", { params: { path: { orgId: org.id } } }));
        navigate("/?deleted=1");
      },
      { leaving: true },
    );
  };

  return (
    <Dialog title={`Delete ${org.name}?`} onClose={onClose}>
      <form class="delete-org" onSubmit={submit}>
        <div class="dialog-body">
          <p>This cannot be undone.</p>
          <ul>
            <li>Every member loses access at once.</li>
            <li>Pending invitations and invite links stop working.</li>
            <li>The organization's data (members, invitations and activity) is then removed permanently.</li>
          </ul>
        </div>
        <label for={inputId}>Type the organization's name to confirm</label>
        <p class="hint" id={`${inputId}-hint`}>
          The name is <strong class="confirm-name">{org.name}</strong>
        </p>
        <input
          id={inputId}
          autoFocus
          autoComplete="off"
          spellcheck={false}
          aria-describedby={`${inputId}-hint`}
          value={typed}
          onInput={(e) => setTyped(e.currentTarget.value)}
        />
        <ErrorText message={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={!matches || busy}>
            {busy ? "Deleting…" : "Yes, delete organization"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
