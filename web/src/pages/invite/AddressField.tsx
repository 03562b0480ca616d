// The address field of an invite group: addresses become chips as they are typed or pasted;
// each chip has a remove button, its text can be taken back into the field to edit, and a
// problem is said on the chip in words (with a one-click fix for a likely typo). Backspace in
// the empty field removes the last chip.
import type { Ref } from "preact";
import { useId } from "preact/hooks";
import type { Entry, Mode } from "./addresses";

export type Chip = Entry & { key: number; failure?: string };

/** What is wrong with a chip, in words; `fix` replaces its address in one click. */
export type Mark = { text: string; fix?: { domain: string; email: string } };

/** How a chip reads: `Victor Viewer <victor@x.test>`, or the address alone. */
export const chipText = (chip: Entry) => (chip.name ? `${chip.name} <${chip.email}>` : chip.email);

export function AddressField(props: {
  label: string;
  listLabel: string;
  hintId: string;
  chips: Chip[];
  text: string;
  mark: (chip: Chip) => Mark | null;
  autoFocus?: boolean;
  inputRef: Ref<HTMLInputElement>;
  onText: (text: string, mode: Mode) => void;
  onRemove: (chip: Chip) => void;
  onEdit: (chip: Chip) => void;
  onFix: (chip: Chip, email: string) => void;
}) {
  const id = useId();
  return (
    <div class="address-field">
      <label for={id}>{props.label}</label>
      <div
        class="chip-field"
        onClick={(e) => {
          if (e.target === e.currentTarget) (e.currentTarget.querySelector("input") as HTMLInputElement | null)?.focus();
        }}
      >
        {props.chips.length > 0 && (
          <ul class="chips" aria-label={props.listLabel}>
            {props.chips.map((chip) => {
              const mark = props.mark(chip);
              const noteId = `${id}-${chip.key}`;
              return (
                <li key={chip.key} class={mark ? "chip marked" : "chip"}>
                  <span class="chip-body">
                    <button
                      type="button"
                      class="chip-text"
                      aria-label={`Edit ${chipText(chip)}`}
                      aria-describedby={mark ? noteId : undefined}
                      onClick={() => props.onEdit(chip)}
                    >
                      {chip.name && <span class="chip-name">{chip.name} </span>}
                      {chip.email}
                    </button>
                    {mark && (
                      <span class="chip-note" id={noteId}>
                        <span aria-hidden="true" class="chip-sign">
                          !
                        </span>
                        {mark.fix ? (
                          <>
                            Did you mean{" "}
                            <button
                              type="button"
                              class="link"
                              aria-label={`Change to ${mark.fix.email}`}
                              onClick={() => props.onFix(chip, mark.fix!.email)}
                            >
                              {mark.fix.domain}
                            </button>
                            ?
                          </>
                        ) : (
                          mark.text
                        )}
                      </span>
                    )}
                  </span>
                  <button
                    type="button"
                    class="chip-remove"
                    aria-label={`Remove ${chip.email}`}
                    onClick={() => props.onRemove(chip)}
                  >
                    ×
                  </button>
                </li>
              );
            })}
          </ul>
        )}
        <input
          id={id}
          ref={props.inputRef}
          type="text"
          inputMode="email"
          autoComplete="off"
          spellcheck={false}
          autoFocus={props.autoFocus}
          aria-describedby={props.hintId}
          placeholder={props.chips.length === 0 ? "name@example.com" : ""}
          value={props.text}
          onInput={(e) => props.onText(e.currentTarget.value, "typing")}
          onPaste={(e) => {
            const pasted = e.clipboardData?.getData("text") ?? "";
            if (!pasted) return;
            e.preventDefault();
            // Line breaks are kept (an input would drop them and join two addresses).
            const input = e.currentTarget;
            const start = input.selectionStart ?? input.value.length;
            const end = input.selectionEnd ?? start;
            props.onText(input.value.slice(0, start) + pasted + input.value.slice(end), "paste");
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              props.onText(e.currentTarget.value, "final");
            } else if (e.key === "Backspace" && e.currentTarget.value === "" && props.chips.length > 0) {
              e.preventDefault();
              props.onRemove(props.chips.at(-1)!);
            }
          }}
          onBlur={(e) => {
            if (e.currentTarget.value.trim()) props.onText(e.currentTarget.value, "final");
          }}
        />
      </div>
    </div>
  );
}
