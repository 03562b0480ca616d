export function Accept({ token }: { token: string }) {
  return <p>Invitation {token ? "" : "missing"} (to be built)</p>;
}
