// What a dashboard tab is: mounted once into its own section, then kept current by patches from the store.
import type { Store } from './store.js';

export interface View {
  id: string;
  title: string;
  /** builds the view's DOM once and subscribes to the store topics it needs */
  mount(container: HTMLElement, store: Store): void;
  /** called when its tab becomes visible (layout that needs a size, like the timeline) */
  shown?(): void;
}
