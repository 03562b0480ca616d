// "Remove N members?": one call for the whole selection, then each member's result in words.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok, type Member, type RemoveResult } from "../../api/client";
import { REMOVE_RESULT } from "../../api/messages";
import { displayName } from "../../session";
import { Dialog } from "../../components/Dialog";
import { ErrorText } from "../../components/Status";
import { useAction } from "../../components/useAction";

const plural = (n: number) => `${n} ${n === 1 ? "member" : "members"}`;

export function BulkRemove(props: {
  orgId: string;
  members: Member[];
  onDone: (results: RemoveResult[]) => void;
  onClose: () => void;
}) {
  const { members } = props;
  const { busy, error, run } = useAction();
  const [results, setResults] = useState<RemoveResult[] | null>(null);
  const done = useRef<HTMLButtonElement>(null);

  // The confirming button is gone once the results show: focus moves to "Done".
  useEffect(() => {
    if (results) done.current?.focus();
  }, [results]);

  const remove = () =>
    run(async () => {
      const answer = await ok(
        api.POST("/orgs/{orgId}/members/remove", {
          params: { path: { orgId: props.orgId } },
          body: { userIds: members.map((m) => m.userId) },
        }),
      );
      setResults(answer.results);
      props.onDone(answer.results);
    });

  const byId = new Map(members.map((m) => [m.userId, m]));
  const removed = results?.filter((r) => r.status === "removed").length ?? 0;

  return (
    <Dialog
      title={results ? `Removed ${removed} of ${plural(members.length)}` : `Remove ${plural(members.length)}?`}
      onClose={props.onClose}
    >
      {results ? (
        <ul class="results bulk-results" aria-label="Results">
          {results.map((r) => {
            const m = byId.get(r.userId);
            return (
              <li key={r.userId}>
                <span>{m ? displayName(m) : r.userId}</span>
                <span class={r.status === "removed" ? "good" : "bad"}>
                  {REMOVE_RESULT[r.status] ?? REMOVE_RESULT.failed}
                </span>
              </li>
            );
          })}
        </ul>
      ) : (
        <div class="dialog-body">
          <p>They lose access to this organization at once. Their data stays, and they can be invited again.</p>
          <ul class="bulk-names">
            {members.map((m) => (
              <li key={m.userId}>{displayName(m)}</li>
            ))}
          </ul>
        </div>
      )}
      <ErrorText message={error} />
      <div class="actions">
        {results ? (
          <button ref={done} type="button" class="primary" onClick={props.onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" class="secondary" onClick={props.onClose}>
              Cancel
            </button>
            <button type="button" class="danger" disabled={busy} onClick={remove}>
              {members.length === 1 ? "Yes, remove member" : "Yes, remove members"}
            </button>
          </>
        )}
      </div>
    </Dialog>
  );
}
