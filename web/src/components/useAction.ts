// One thing a person asks the API to do (a form's submit, a dialog's confirm, "Load more"):
// busy while it runs, and a refusal in words.
import { useEffect, useRef, useState } from "preact/hooks";
import { sentence } from "../api/messages";

type Options = {
  /** Shown in place of the API's sentence when the action fails. */
  message?: string;
  /** Success takes the person away (a navigation, a dialog that closes): busy stays on
   * meanwhile, so the button cannot be pressed again. */
  leaving?: boolean;
};

export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Only the latest run changes busy and error; none does once the component is gone.
  const latest = useRef(0);
  useEffect(
    () => () => {
      latest.current++;
    },
    [],
  );

  /** Runs `action`: busy meanwhile, the error cleared first and set if it throws. Never
   * rejects. */
  const run = async (action: () => Promise<void>, options: Options = {}): Promise<void> => {
    const mine = ++latest.current;
    setBusy(true);
    setError(null);
    try {
      await action();
      if (mine === latest.current && !options.leaving) setBusy(false);
    } catch (e) {
      if (mine !== latest.current) return;
      setError(options.message ?? sentence(e));
      setBusy(false);
    }
  };

  return { busy, error, setError, run };
}
