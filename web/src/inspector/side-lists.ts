// The inspector's side lists: the live actors (a click lights only that actor) and the recent transitions (a click shows that machine).
import { clock, h, setAttr, setText, syncList } from '../dom.js';
import type { ActiveStateView } from '../store.js';
import { formatValue } from './chart.js';
import type { TransitionEntry } from './transitions.js';

/** What a click in the lists asks of the panel, which owns the machine shown and the focus. */
export interface SideListActions {
  /** an actor clicked: light only it, or everyone again when it was the one lit */
  actor(path: string): void;
  /** "Highlight all" */
  showAll(): void;
  /** a transition clicked: show its machine */
  transition(machine: string): void;
}

export class SideLists {
  /** the Live actors and Recent transitions panels, for the panel's aside */
  readonly actorsPanel: HTMLElement;
  readonly transitionsPanel: HTMLElement;
  private readonly actorsList: HTMLElement;
  private readonly actorsEmpty: HTMLElement;
  private readonly showAll: HTMLButtonElement;
  private readonly transitionsList: HTMLElement;
  private readonly transitionsEmpty: HTMLElement;

  constructor(private readonly actions: SideListActions) {
    this.actorsList = h('ul', { class: 'insp-actors', 'data-testid': 'inspector-actors' });
    this.actorsEmpty = h('p', { class: 'muted insp-empty' }, 'No live actors: no batch is running.');
    this.showAll = h('button', { class: 'action insp-show-all', hidden: true, onclick: () => this.actions.showAll() }, 'Highlight all');
    this.transitionsList = h('ol', { class: 'insp-transitions', 'data-testid': 'inspector-transitions' });
    this.transitionsEmpty = h('p', { class: 'muted insp-empty' }, 'No transitions yet.');
    this.actorsPanel = h('div', { class: 'panel' }, h('h2', {}, 'Live actors ', this.showAll), this.actorsEmpty, this.actorsList);
    this.transitionsPanel = h('div', { class: 'panel insp-transitions-panel' }, h('h2', {}, 'Recent transitions'), this.transitionsEmpty, this.transitionsList);
  }

  /** `machine`: the one shown; `focus`: the actor path lit alone, or null */
  renderActors(active: readonly ActiveStateView[], machine: string, focus: string | null): void {
    this.actorsEmpty.hidden = active.length > 0;
    this.showAll.hidden = focus === null;
    syncList(
      this.actorsList,
      active,
      (a) => a.path,
      (a) =>
        h(
          'li',
          { class: 'insp-actor', 'data-testid': 'inspector-actor', title: 'light only this actor’s states', onclick: () => this.actions.actor(a.path) },
          h('span', { class: 'insp-actor-path mono' }),
          h('span', { class: 'badge insp-actor-machine' }),
          h('span', { class: 'insp-actor-value mono' }),
        ),
      (el, a) => {
        setText(el.children[0]!, a.path);
        setText(el.children[1]!, a.machine);
        setText(el.children[2]!, formatValue(a.value));
        el.classList.toggle('insp-shown', a.machine === machine);
        el.classList.toggle('insp-focused', a.path === focus);
        setAttr(el, 'data-path', a.path);
      },
    );
  }

  renderTransitions(entries: readonly TransitionEntry[], machine: string): void {
    this.transitionsEmpty.hidden = entries.length > 0;
    syncList(
      this.transitionsList,
      entries,
      (e) => e.key,
      (e) =>
        h(
          'li',
          { class: 'insp-transition', 'data-testid': 'inspector-transition', title: 'show this machine', onclick: () => this.actions.transition(e.machine) },
          h('span', { class: 'insp-t-time mono muted' }, clock(e.ts)),
          h('span', { class: 'insp-t-path mono' }, e.path),
          h('span', { class: 'insp-t-change mono' }, ...change(e)),
          e.events ? h('span', { class: 'insp-t-events muted' }, e.events) : null,
        ),
      (el, e) => {
        el.classList.toggle('insp-shown', e.machine === machine);
      },
    );
  }
}

function change(e: TransitionEntry): (Node | string)[] {
  if (e.from === null) return [h('span', { class: 'insp-t-note' }, 'started in '), h('b', {}, e.to ?? '')];
  if (e.to === null) return [h('span', {}, e.from), h('span', { class: 'insp-t-note' }, ' · stopped')];
  return [h('span', {}, e.from), h('span', { class: 'insp-t-arrow' }, ' → '), h('b', {}, e.to)];
}
