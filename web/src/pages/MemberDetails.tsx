import type { OrgContext } from "./OrgPage";

export function MemberDetails({ context, userId }: { context: OrgContext; userId: string }) {
  return <p>{context.org.name}: {userId} (to be built)</p>;
}
