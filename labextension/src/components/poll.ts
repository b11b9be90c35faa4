/**
 * Polling for live views (running experiments, queued or running jobs): one
 * request at a time, only while enabled and while the view is visible.
 */
import * as React from 'react';

/** Whether a view is on screen: its Lumino widget is visible and the tab too. */
export type VisibilityCheck = () => boolean;

export const alwaysVisible: VisibilityCheck = () => true;

/**
 * Call `callback` every `intervalMs` while `enabled`. The next call is
 * scheduled when the previous one settled, so slow replies never pile up.
 * While `isVisible()` is false (a collapsed sidebar, a background tab, a
 * hidden browser tab) no request is made; unmounting stops everything.
 */
export function usePolling(
  callback: () => Promise<unknown> | void,
  enabled: boolean,
  intervalMs: number,
  isVisible: VisibilityCheck = alwaysVisible
): void {
  const latest = React.useRef(callback);
  latest.current = callback;
  const visible = React.useRef(isVisible);
  visible.current = isVisible;

  React.useEffect(() => {
    if (!enabled) {
      return;
    }
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      if (stopped) {
        return;
      }
      if (visible.current() && !document.hidden) {
        try {
          await latest.current();
        } catch {
          // the callback shows its own errors; keep polling
        }
      }
      if (!stopped) {
        timer = window.setTimeout(() => void tick(), intervalMs);
      }
    };
    timer = window.setTimeout(() => void tick(), intervalMs);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [enabled, intervalMs]);
}
