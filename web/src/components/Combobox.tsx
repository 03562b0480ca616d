// A type-ahead (WAI-ARIA combobox with a list box): typing filters the options the page gives
// for the text; ↓ and ↑ move through them (↓ also opens the list), Enter picks the one marked,
// Escape closes the list (and, closed, clears the text). Picking hands the option to the page
// and empties the field for the next one.
import { useId, useState } from "preact/hooks";

export type Option = { id: string; label: string; sub?: string | undefined };

export function Combobox(props: {
  label: string;
  /** The options for the text typed (the page filters and orders them). */
  options: (text: string) => Option[];
  onPick: (option: Option) => void;
  /** Said under the list when nothing matches, or while options load. */
  empty: string;
  placeholder?: string;
  disabled?: boolean;
  /** Why it is disabled, or a hint, said beside the field. */
  hint?: string | undefined;
  onFocus?: () => void;
}) {
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const id = useId();
  const found = open ? props.options(text).slice(0, 8) : [];
  const at = Math.min(active, found.length - 1);

  const pick = (o: Option) => {
    props.onPick(o);
    setText("");
    setOpen(false);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!open) return setOpen(true);
      const n = found.length || 1;
      setActive((at + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
    } else if (e.key === "Enter") {
      // Enter never sends the form around the field: it picks, or does nothing.
      e.preventDefault();
      if (open && found[at]) pick(found[at]!);
    } else if (e.key === "Escape") {
      if (open || text) e.preventDefault();
      if (open) setOpen(false);
      else setText("");
    }
  };

  return (
    <div class="combo">
      <label for={`${id}-input`}>{props.label}</label>
      <div class="combo-field">
        <input
          id={`${id}-input`}
          type="text"
          role="combobox"
          autoComplete="off"
          spellcheck={false}
          aria-autocomplete="list"
          aria-expanded={found.length > 0}
          aria-controls={`${id}-list`}
          aria-activedescendant={open && found[at] ? `${id}-${at}` : undefined}
          aria-describedby={props.hint ? `${id}-hint` : undefined}
          placeholder={props.placeholder}
          disabled={props.disabled}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            setActive(0);
            setOpen(true);
          }}
          onFocus={props.onFocus}
          onClick={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKey}
        />
        <ul id={`${id}-list`} role="listbox" aria-label={props.label} hidden={found.length === 0}>
          {found.map((o, i) => (
            <li
              key={o.id}
              id={`${id}-${i}`}
              role="option"
              aria-selected={i === at}
              onMouseDown={(e) => {
                e.preventDefault(); // the field keeps the focus
                pick(o);
              }}
            >
              {o.label}
              {o.sub && <span class="sub">{o.sub}</span>}
            </li>
          ))}
        </ul>
        {open && found.length === 0 && (
          <p class="muted combo-empty" role="status">
            {props.empty}
          </p>
        )}
      </div>
      {props.hint && (
        <span class="muted combo-hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      )}
    </div>
  );
}
