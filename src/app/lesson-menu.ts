import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LessonController } from './controllers/lessons.js';
import type { LessonAction } from './lessons/lesson-actions.js';

/** The Lessons menu: the four lessons, each a button that starts it (the one running is marked). */
@localized()
@customElement('whycam-lesson-menu')
export class LessonMenu extends LitElement {
  static override styles = css`
    :host { display: block; }
    ol { margin: 0; padding: 0; list-style: none; display: grid; gap: 0.35rem; }
    button { font: inherit; width: 100%; text-align: left; padding: 0.35rem 0.6rem; border-radius: 0.35rem; border: 1px solid var(--track, #333b4a);
      background: var(--panel-2, #1d2330); color: inherit; cursor: pointer; }
    button[aria-current='true'] { border-color: var(--accent, #ffcc00); }
    button:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    .summary { display: block; font-size: 0.8em; opacity: 0.8; }
    .note { font-size: 0.8em; opacity: 0.8; margin: 0.4rem 0 0; }
  `;

  @property({ attribute: false }) lessons!: LessonController;
  @property({ attribute: false }) revision = '';

  protected override render() {
    const l = this.lessons;
    if (!l) return null;
    return html`<ol>
        ${l.lessons.map(
          (
            lesson,
            i,
          ) => html`<li><button type="button" data-lesson-start=${lesson.id} aria-current=${String(l.lesson?.id === lesson.id)}
            @click=${() => this.act({ op: 'start', id: lesson.id })}>${msg(str`${i + 1}. ${lesson.title()}`)}<span class="summary">${lesson.summary()}</span></button></li>`,
        )}
      </ol>
      <p class="note">${msg('Each lesson sets the app up step by step and says what to do, what to look for and what to ask; Worksheet prints its steps with room for answers. A link with ?lesson=look, shortcut, fool or real opens one.')}</p>`;
  }

  private act(action: LessonAction): void {
    this.dispatchEvent(new CustomEvent('lesson-action', { detail: action, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-lesson-menu': LessonMenu;
  }
}
