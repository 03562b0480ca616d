// A modal dialog on the native <dialog>: showModal() makes the page behind it inert (focus
// stays inside) and Escape closes it.
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import { useAction } from "./useAction";

type Props = { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean };

export function Dialog({ title, onClose, children, wide }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? "dialog wide" : "dialog"}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** "Are you sure?" with one confirming button; `busy` while the API works. */
export function Confirm(props: {
  title: string;
  body: ComponentChildren;
  confirm: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div class="dialog-body">{props.body}</div>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? "danger" : "primary"}
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}

/** A confirmation that runs `onYes` itself: busy meanwhile, a refusal said in the dialog, and
 * closed (by the caller, in `onYes`) once done. */
export function Ask(props: {
  title: string;
  body: ComponentChildren;
  confirm: string;
  danger?: boolean;
  onYes: () => Promise<void>;
  onClose: () => void;
}) {
  const { busy, error, run } = useAction();
  return <Confirm {...props} busy={busy} error={error} onConfirm={() => void run(props.onYes, { leaving: true })} />;
}
