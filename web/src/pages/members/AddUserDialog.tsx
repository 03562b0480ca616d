// "Add user": an account in the deployment's user pool with a temporary password, and its
// membership, in one request (API.md "Accounts"). The password is typed or generated here
// (password.ts), can be copied, and is emailed by the sign-in service unless "Send the
// password by email" is unticked, when the person adding them must hand it over themselves.
// An address that can already sign in is invited instead: the API answers in the same shape
// and the dialog says no more than that answer does. Nothing is shown as done before the API
// has answered.
import type { InputHTMLAttributes } from "preact";
import { useEffect, useId, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, ok, type Role } from "../../api/client";
import { sentence } from "../../api/messages";
import { useRoleChoices } from "../../customRoles";
import { article, ROLE_LABEL } from "../../roles";
import { Dialog } from "../../components/Dialog";
import { RoleSelect } from "../../components/Fields";
import { ErrorText, Notice } from "../../components/Status";
import { useAction } from "../../components/useAction";
import { plausible } from "../invite/addresses";
import type { OrgContext } from "../orgContext";
import type { Added } from "./AddUser";
import { generatePassword } from "./password";
import "./add-user.css";

type Field = "name" | "email" | "password";

/** What the API answered, with what the dialog needs to say about it. */
type Outcome =
  | { kind: "account_created"; name: string; email: string; role: string; emailed: boolean; password: string }
  | { kind: "invited"; email: string; role: string; passwordUnused: boolean };

export function AddUserDialog(props: { context: OrgContext; onAdded: (added: Added) => void; onClose: () => void }) {
  const { context } = props;
  const { org } = context;
  const { builtin, roles, labels } = useRoleChoices(org.id, context.me.role);
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<string>(builtin.includes("member") ? "member" : (builtin[0] ?? "viewer"));
  const [password, setPassword] = useState("");
  const [sendEmail, setSendEmail] = useState(true);
  const [invalid, setInvalid] = useState<Field | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const { busy, error, setError, run } = useAction();
  const fields = { name: useRef<HTMLInputElement>(null), email: useRef<HTMLInputElement>(null), password: useRef<HTMLInputElement>(null) };
  const done = useRef<HTMLButtonElement>(null);
  const ids = { password: useId(), hint: useId(), warning: useId(), error: useId() };

  // The result takes the form's place: focus goes to its Done button. "Add another" brings
  // the form back: its first field takes the focus as soon as it is there (a layout effect:
  // in the same task as the render, before anyone can type or look).
  const refocus = useRef(false);
  useEffect(() => {
    if (outcome) done.current?.focus();
  }, [outcome]);
  useLayoutEffect(() => {
    if (!outcome && refocus.current) {
      refocus.current = false;
      fields.name.current?.focus();
    }
  }, [outcome]);

  /** Says why the form was not sent, marking and focusing the field at fault. */
  const refuse = (message: string, field: Field | null) => {
    setError(message);
    setInvalid(field);
    if (field) fields[field].current?.focus();
  };
  /** A field that may be refused: marked then, and pointing at the reason; editing it takes
   * the mark away. */
  const input = (
    field: Field,
    value: string,
    set: (value: string) => void,
    attributes: InputHTMLAttributes<HTMLInputElement>,
    describedBy?: string,
  ) => (
    <input
      {...attributes}
      ref={fields[field]}
      value={value}
      autoComplete="off"
      aria-invalid={invalid === field || undefined}
      aria-describedby={[describedBy, invalid === field ? ids.error : ""].filter(Boolean).join(" ") || undefined}
      onInput={(e) => {
        set(e.currentTarget.value);
        if (invalid === field) setInvalid(null);
      }}
    />
  );

  const generate = () => {
    setPassword(generatePassword());
    if (invalid === "password") setInvalid(null);
    setCopied("A new password was generated.");
  };
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("Password copied.");
    } catch {
      setCopied("Could not copy: select the password and copy it yourself.");
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const who = name.trim();
    const address = email.trim();
    if (!who) return refuse("Enter the person's name.", "name");
    if (!plausible(address)) return refuse(`${address ? `${address} is not` : "Enter"} a valid email address.`, "email");
    if (!sendEmail && !password)
      return refuse("Enter or generate a password: with no email, you give it to them yourself.", "password");
    setInvalid(null);
    void run(async () => {
      const body = { email: address, name: who, role, sendEmail, ...(password ? { temporaryPassword: password } : {}) };
      try {
        const answer = await ok(api.POST("/orgs/{orgId}/members/accounts", { params: { path: { orgId: org.id } }, body }));
        if (answer.result === "account_created" && answer.member) {
          props.onAdded({ member: answer.member });
          setOutcome({ kind: "account_created", name: who, email: address, role, emailed: sendEmail, password });
        } else {
          if (answer.invitation) props.onAdded({ invitation: answer.invitation });
          setOutcome({ kind: "invited", email: address, role, passwordUnused: !!password });
        }
      } catch (e) {
        // A refusal about one field marks it and takes the focus there.
        const field = !(e instanceof ApiError)
          ? null
          : e.code === "weak_password"
            ? "password"
            : e.code === "invalid_email"
              ? "email"
              : null;
        setInvalid(field);
        if (field) fields[field].current?.focus();
        throw refusal(e, address, org.name);
      }
    });
  };

  const again = () => {
    setOutcome(null);
    setName("");
    setEmail("");
    setPassword("");
    setCopied(null);
    setError(null);
    refocus.current = true;
  };

  // "a viewer", "an admin"; a custom role by its name ("Billing (ranks as Member)").
  const roleWords = (r: string) =>
    r in ROLE_LABEL ? `${article(r as Role)} ${r}` : (labels[r] ?? r);
  const summary = !outcome
    ? ""
    : outcome.kind === "account_created"
      ? `${outcome.name} was added to ${org.name} as ${roleWords(outcome.role)}, and is in the members list now.`
      : `An invitation was sent to ${outcome.email}: they join ${org.name} as ${roleWords(outcome.role)} when they accept it.`;

  return (
    <Dialog title="Add user" onClose={props.onClose}>
      <p role="status" class="summary">
        {summary}
      </p>
      {outcome ? (
        <div class="add-user-result">
          {outcome.kind === "account_created" ? (
            <>
              <p>
                {outcome.emailed
                  ? `Their temporary password was emailed to ${outcome.email}.`
                  : `No email was sent: give ${outcome.name} the password yourself.`}{" "}
                At their first sign-in they choose their own password, and the sign-in page asks them to confirm
                the address with a code sent to it.
              </p>
              {!outcome.emailed && (
                <div class="password-field">
                  <label for={ids.password}>Temporary password</label>
                  <div class="copy-row">
                    <input
                      id={ids.password}
                      readOnly
                      value={outcome.password}
                      spellcheck={false}
                      onFocus={(e) => e.currentTarget.select()}
                    />
                    <button type="button" class="secondary" onClick={() => void copy(outcome.password)}>
                      Copy
                    </button>
                  </div>
                  <p class="muted">It is not shown again once you close this.</p>
                  <Notice message={copied} />
                </div>
              )}
            </>
          ) : (
            // The sentence above says what happened; no more is said of the address's account.
            outcome.passwordUnused && <p>The password you entered was not used.</p>
          )}
          <div class="actions">
            <button type="button" class="secondary" onClick={again}>
              Add another
            </button>
            <button ref={done} type="button" class="primary" onClick={props.onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form class="add-user" onSubmit={submit} noValidate>
          <label>
            Name
            {input("name", name, setName, { autoFocus: true, maxLength: 200 })}
          </label>
          <label>
            Email
            {input("email", email, setEmail, { type: "email", spellcheck: false })}
          </label>
          <RoleSelect value={role} roles={roles} labels={labels} onChange={setRole} />
          <div class="password-field">
            <label for={ids.password}>Temporary password{sendEmail ? " (optional)" : ""}</label>
            <p class="muted hint" id={ids.hint}>
              {sendEmail
                ? "Left empty, one is made for them and emailed. "
                : "Required: you give it to them. "}
              They choose their own at first sign-in.
            </p>
            <div class="copy-row">
              {input("password", password, setPassword, { id: ids.password, autoCapitalize: "off", spellcheck: false }, ids.hint)}
              <button type="button" class="secondary" onClick={generate}>
                Generate password
              </button>
              <button
                type="button"
                class="secondary"
                aria-disabled={!password}
                onClick={() => (password ? void copy(password) : setCopied("There is no password to copy yet."))}
              >
                Copy
              </button>
            </div>
            <Notice message={copied} />
          </div>
          <label class="check">
            <input
              type="checkbox"
              checked={sendEmail}
              aria-describedby={sendEmail ? undefined : ids.warning}
              onChange={(e) => setSendEmail(e.currentTarget.checked)}
            />
            Send the password by email
          </label>
          <div aria-live="polite">
            {!sendEmail && (
              <p class="warning" id={ids.warning}>
                No email will be sent. You will need to give {name.trim() || "the person"} the password yourself,
                in a safe way: they cannot sign in without it.
              </p>
            )}
          </div>
          <div id={ids.error}>
            <ErrorText message={error} />
          </div>
          <div class="actions">
            <button type="button" class="secondary" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Adding…" : "Add user"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** The API's refusal of one added user in words: the address already here is said as such
 * (a 409 `conflict` otherwise reads as a race). */
function refusal(e: unknown, address: string, orgName: string): ApiError {
  const said = (text: string) => new ApiError(0, "said", text);
  // The pool's password rule the password broke ("temporaryPassword must contain a symbol"),
  // said of the password rather than of the API's field.
  if (e instanceof ApiError && e.code === "weak_password" && e.detail)
    return said(`That password is not accepted: ${e.detail.trim().replace(/^temporaryPassword\b/, "it").replace(/\.?$/, ".")} Generate one, or choose another.`);
  if (e instanceof ApiError && e.code === "accounts_unavailable")
    return said("This service signs people in through another provider, so it cannot create accounts: invite the address instead.");
  if (e instanceof ApiError && e.code === "conflict") {
    if (/member/.test(e.detail)) return said(`${address} is a member of ${orgName} already.`);
    if (/invitation/.test(e.detail))
      return said(`${address} has a pending invitation to ${orgName} already: resend it from the list instead.`);
  }
  return said(sentence(e));
}
