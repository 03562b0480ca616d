// "Assign workspaces" in the invite dialog and the invite-link form: a disclosure button, and
// under it the picker (loaded when first opened).
import { useState } from "preact/hooks";
import { lazy } from "../../components/lazy";
import type { Assigned } from "./assigned";

const AssignPicker = lazy(() => import("./AssignPicker").then((m) => m.AssignPicker));

export function AssignSection(props: { orgId: string; value: Assigned[]; onChange: (items: Assigned[]) => void }) {
  const [open, setOpen] = useState(false);
  const n = props.value.length;
  return (
    <div class="assign-section">
      <button type="button" class="secondary small disclosure" aria-expanded={open} onClick={() => setOpen(!open)}>
        Assign workspaces{n > 0 ? ` (${n} chosen)` : ""}
      </button>
      {open && <AssignPicker {...props} />}
    </div>
  );
}
