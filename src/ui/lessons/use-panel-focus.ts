/**
 * Points at the panel a lesson step is about: the element with that test id gets the
 * `lesson-focus` class (an outline, app.css is not touched: lessons.css) and is scrolled into view.
 */
import { useEffect } from 'react';

export function usePanelFocus(testId: string | undefined): void {
  useEffect(() => {
    if (!testId) return;
    const el = document.querySelector(`[data-testid="${CSS.escape(testId)}"]`);
    if (!el) return;
    el.classList.add('lesson-focus');
    el.scrollIntoView({ block: 'nearest' });
    return () => el.classList.remove('lesson-focus');
  }, [testId]);
}
