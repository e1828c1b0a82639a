import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { LessonController } from './controllers/lessons.js';
import type { LessonAction } from './lessons/lesson-actions.js';

/**
 * The step of the lesson being taught, over the picture (so it stays in presentation mode): where
 * the lesson is, what to do, what to look for, the question for the class, why the step cannot run
 * as written, and the board of kept pictures. It folds away to one line so as not to hide the picture.
 */
@localized()
@customElement('whycam-lesson-card')
export class LessonCard extends LitElement {
  static override styles = css`
    :host { display: block; grid-column: 1 / -1; }
    /* Over the picture in presentation mode (the app root sets the attribute), so that it stays on the projector. */
    :host([floating]) .card { background: rgba(0, 0, 0, 0.82); }
    :host([floating]) { position: absolute; z-index: 2; left: 0.6rem; bottom: 0.6rem; max-width: min(30rem, calc(100% - 1.2rem)); }
    .card { background: var(--panel, rgba(10, 12, 18, 0.88)); color: #fff; border: 1px solid var(--track, #333b4a); border-radius: 0.5rem;
      padding: 0.6rem 0.8rem; font-size: 0.9em; line-height: 1.35; }
    .where { display: flex; gap: 0.5rem; align-items: center; font-size: 0.85em; opacity: 0.9; }
    .where .name { flex: 1; }
    .dots { display: flex; gap: 0.25rem; }
    .dots span { width: 0.6rem; height: 0.6rem; border-radius: 50%; background: #555; }
    .dots span.done { background: #8bc34a; }
    .dots span.now { background: var(--accent, #ffcc00); }
    h3 { margin: 0.3rem 0; font-size: 1.1em; }
    dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0.2rem 0.5rem; }
    dt { font-weight: bold; opacity: 0.85; }
    dd { margin: 0; }
    .note { font-size: 0.85em; opacity: 0.85; margin: 0.3rem 0 0; }
    .blocked { background: #5a3d00; border-radius: 0.3rem; padding: 0.3rem 0.5rem; margin: 0.4rem 0 0; }
    .row { display: flex; gap: 0.4rem; flex-wrap: wrap; margin-top: 0.5rem; }
    button { font: inherit; min-height: 2rem; padding: 0.2rem 0.7rem; border-radius: 0.35rem; border: 1px solid var(--track, #333b4a);
      background: var(--panel-2, #1d2330); color: inherit; cursor: pointer; }
    button.primary { background: var(--accent, #ffcc00); color: #000; border-color: transparent; }
    button:disabled { opacity: 0.5; cursor: default; }
    button:focus-visible { outline: 2px solid var(--accent, #ffcc00); }
    .board { display: flex; gap: 0.3rem; flex-wrap: wrap; margin-top: 0.4rem; }
    .board img { height: 3.2rem; border-radius: 0.2rem; }
  `;

  @property({ attribute: false }) lessons!: LessonController;
  /** Floats over the picture (presentation mode) instead of sitting under it. */
  @property({ type: Boolean, reflect: true }) floating = false;
  /** Changes when the controller's state does (it is mutated in place). */
  @property({ attribute: false }) revision = '';
  @state() private folded = false;

  protected override render() {
    const l = this.lessons;
    const lesson = l?.lesson;
    const step = l?.current;
    if (!lesson || !step) return null;
    const n = lesson.steps.length;
    const number = l.lessons.indexOf(lesson) + 1;
    const t = step.text();
    const last = l.step >= n - 1;
    return html`<div class="card" role="region" aria-label=${msg('Lesson')} data-lesson=${lesson.id} data-step=${l.step}>
      <div class="where">
        <span class="name">${msg(str`Lesson ${number}: ${lesson.title()}`)} · ${msg(str`step ${l.step + 1} of ${n}`)}</span>
        <span class="dots" aria-hidden="true">${lesson.steps.map((_, i) => html`<span class=${i < l.step ? 'done' : i === l.step ? 'now' : ''}></span>`)}</span>
        <button type="button" aria-expanded=${String(!this.folded)} title=${this.folded ? msg('Show the step') : msg('Fold the step away')}
          @click=${() => (this.folded = !this.folded)}>${this.folded ? '▴' : '▾'}</button>
      </div>
      ${
        this.folded
          ? null
          : html`
      <h3 data-lesson="title">${t.title}</h3>
      <dl>
        <dt>${msg('Do')}</dt><dd data-lesson="task">${t.task}</dd>
        <dt>${msg('Look for')}</dt><dd data-lesson="look">${t.look}</dd>
        <dt>${msg('Ask')}</dt><dd data-lesson="ask">${t.ask}</dd>
      </dl>
      ${l.resumed && l.step > 0 ? html`<p class="note" data-lesson="resumed">${msg('Picked up where the class left off.')}</p>` : null}
      ${l.blocked ? html`<p class="blocked" role="status" data-lesson="blocked">${l.blocked}</p>` : null}
      ${l.board.length > 0 ? html`<div class="board" data-lesson="board">${l.board.map((b) => html`<img src=${b.image} alt=${`${b.label} ${Math.round(b.score * 100)}%`} title=${`${b.label} ${Math.round(b.score * 100)}% — ${b.method}`}>`)}</div>` : null}
      <div class="row">
        <button type="button" data-lesson="back" ?disabled=${l.step === 0} @click=${() => this.act({ op: 'back' })}>${msg('Back')}</button>
        ${
          last
            ? html`<button type="button" class="primary" data-lesson="end" @click=${() => this.act({ op: 'end' })}>${msg('Finish')}</button>`
            : html`<button type="button" class="primary" data-lesson="next" @click=${() => this.act({ op: 'next' })}>${msg('Next step')}</button>`
        }
        <button type="button" class=${step.board ? 'primary' : ''} data-lesson="keep" @click=${() => this.act({ op: 'keep' })}>${msg('Keep on the board')}</button>
        <button type="button" data-lesson="print" @click=${() => this.act({ op: 'print' })}>${msg('Worksheet')}</button>
        ${last ? null : html`<button type="button" data-lesson="leave" @click=${() => this.act({ op: 'end' })}>${msg('Leave')}</button>`}
      </div>`
      }
    </div>`;
  }

  private act(action: LessonAction): void {
    this.dispatchEvent(new CustomEvent('lesson-action', { detail: action, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-lesson-card': LessonCard;
  }
}
