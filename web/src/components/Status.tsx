// Messages announced to screen readers: `role=alert` for refusals, `role=status` for done.
export function ErrorText({ message }: { message: string | null | undefined }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

export function Notice({ message }: { message: string | null | undefined }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {message ?? ""}
    </p>
  );
}
