// "Create organization": a name, then the new organization's members page (the creator is its
// owner). On the organizations page as a card, and in a dialog from the organization switcher.
import { useId } from "preact/hooks";
import { api, ok } from "../api/client";
import { navigate } from "../router";
import { Dialog } from "../components/Dialog";
import { ErrorText } from "../components/Status";
import { useAction } from "../components/useAction";

function CreateOrgForm(props: { class: string; heading?: boolean; onCancel?: () => void; onCreated?: () => void }) {
  const { busy, error, run } = useAction();
  const titleId = useId();
  const submit = (e: Event) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget as HTMLFormElement).get("name") ?? "");
    void run(
      async () => {
        const created = await ok(api.POST("/orgs", { body: { name } }));
        navigate(`/o/${created.org.id}/members`);
        props.onCreated?.();
      },
      { leaving: true },
    );
  };
  return (
    <form class={props.class} onSubmit={submit} aria-labelledby={props.heading ? titleId : undefined}>
      {props.heading && <h2 id={titleId}>Create organization</h2>}
      <label>
        Organization name
        <input name="name" required maxLength={100} autoComplete="off" autoFocus={!!props.onCancel} />
      </label>
      <ErrorText message={error} />
      <div class={props.onCancel ? "actions" : undefined}>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Create organization
        </button>
      </div>
    </form>
  );
}

/** The organizations page's card. */
export function CreateOrg() {
  return <CreateOrgForm class="card inline-form" heading />;
}

/** The switcher's dialog: the field first, Cancel or Escape to go back (`created` false). */
export function CreateOrgDialog({ onClose }: { onClose: (created: boolean) => void }) {
  return (
    <Dialog title="Create organization" onClose={() => onClose(false)}>
      <p class="muted">You become its owner, and can invite people to it.</p>
      <CreateOrgForm class="create-org" onCancel={() => onClose(false)} onCreated={() => onClose(true)} />
    </Dialog>
  );
}
