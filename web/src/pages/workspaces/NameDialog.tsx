// Creating or renaming a workspace or a group: its name and description in a dialog. The dialog
// closes once the API has answered; a refusal is said in it.
import { useState } from "preact/hooks";
import { Dialog } from "../../components/Dialog";
import { ErrorText } from "../../components/Status";
import { useAction } from "../../components/useAction";

export function NameDialog(props: {
  title: string;
  /** "workspace" or "group", for the fields' hints. */
  kind: string;
  name?: string;
  description?: string;
  submit: string;
  onSubmit: (name: string, description: string) => Promise<void>;
  onClose: () => void;
}) {
  const [name, setName] = useState(props.name ?? "");
  const [description, setDescription] = useState(props.description ?? "");
  const { busy, error, run } = useAction();
  const send = (e: Event) => {
    e.preventDefault();
    void run(() => props.onSubmit(name.trim(), description.trim()), { leaving: true });
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form class="name-dialog" onSubmit={send}>
        <label>
          Name
          <input required maxLength={100} autoComplete="off" autoFocus value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Description <span class="optional-hint">(optional)</span>
          <textarea
            maxLength={500}
            rows={3}
            placeholder={`What this ${props.kind} is for`}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>
        <ErrorText message={error} />
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {props.submit}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
