// One styled tooltip for the whole page: any element with `data-tip` (or a `title`, taken over on first hover so the
// browser's own plain tooltip does not show as well) gets it, multi-line, near the pointer and inside the window.
import { h, setText } from './dom.js';

export function mountTooltip(): HTMLElement {
  const tip = h('div', { class: 'tooltip', role: 'tooltip', 'data-testid': 'tooltip', hidden: true });
  document.body.append(tip);
  let target: HTMLElement | null = null;
  const place = (x: number, y: number) => {
    const { width, height } = tip.getBoundingClientRect();
    tip.style.left = `${Math.max(4, Math.min(x + 12, innerWidth - width - 4))}px`;
    tip.style.top = `${y + 16 + height > innerHeight ? Math.max(4, y - height - 8) : y + 16}px`;
  };
  document.addEventListener('mouseover', (e) => {
    const el = (e.target as Element | null)?.closest?.<HTMLElement>('[data-tip], [title]') ?? null;
    if (el?.hasAttribute('title')) {
      // views keep setting `title`: take it over each time it changes
      el.dataset['tip'] = el.getAttribute('title') ?? '';
      el.removeAttribute('title');
    }
    target = el && el.dataset['tip'] ? el : null;
    tip.hidden = !target;
    if (target) {
      setText(tip, target.dataset['tip']!);
      place(e.clientX, e.clientY);
    }
  });
  document.addEventListener('mousemove', (e) => target && place(e.clientX, e.clientY), { passive: true });
  document.addEventListener('mouseout', (e) => {
    if (target && !target.contains(e.relatedTarget as Node | null)) {
      target = null;
      tip.hidden = true;
    }
  });
  return tip;
}
