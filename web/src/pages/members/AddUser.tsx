// "Add user" beside "Invite members": only where the deployment has a user pool of its own
// (config.json `addUser`) and for those who may invite. The dialog (AddUserDialog) loads when
// first wanted, in a chunk of its own; pointing at or focusing the button starts loading it.
import { useState } from "preact/hooks";
import type { Invitation, Member } from "../../api/client";
import { config } from "../../config";
import { lazy } from "../../components/lazy";
import { can, type OrgContext } from "../orgContext";

const load = () => import("./AddUserDialog").then((m) => m.AddUserDialog);
const AddUserDialog = lazy(load);

/** What an added user came to: a new member, or (the address could already sign in) an
 * invitation. */
export type Added = { member: Member } | { invitation: Invitation };

export function AddUserButton(props: { context: OrgContext; onAdded: (added: Added) => void }) {
  const [open, setOpen] = useState(false);
  if (!config().addUser || !can(props.context, "members:invite")) return null;
  return (
    <>
      <button
        type="button"
        class="secondary"
        onPointerEnter={() => void load().catch(() => undefined)}
        onFocus={() => void load().catch(() => undefined)}
        onClick={() => setOpen(true)}
      >
        Add user
      </button>
      {open && <AddUserDialog context={props.context} onAdded={props.onAdded} onClose={() => setOpen(false)} />}
    </>
  );
}
