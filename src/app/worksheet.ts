import { localized, msg, str } from '@lit/localize';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LessonController } from './controllers/lessons.js';

/**
 * A lesson's worksheet, the page the browser prints (or saves as PDF): its steps and questions with
 * room for the answers, and the pictures the class kept on the board. Hidden on screen; the app's
 * print styles show it alone.
 */
@localized()
@customElement('whycam-worksheet')
export class Worksheet extends LitElement {
  static override styles = css`
    :host { display: block; color: #000; background: #fff; font: 11pt/1.4 system-ui, sans-serif; }
    header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 2px solid #000; margin-bottom: 0.6rem; }
    h1 { font-size: 17pt; margin: 0; }
    .fields { display: flex; gap: 2rem; margin: 0.3rem 0 0.8rem; }
    .fields span { flex: 1; border-bottom: 1px solid #000; padding-bottom: 0.2rem; }
    section { break-inside: avoid; margin: 0 0 0.7rem; }
    h2 { font-size: 12.5pt; margin: 0 0 0.2rem; }
    p { margin: 0.1rem 0; }
    .ask { font-weight: 600; }
    .answer { height: 3.2rem; border: 1px solid #777; border-radius: 3px; margin-top: 0.25rem;
      background: repeating-linear-gradient(to bottom, transparent 0, transparent 1.05rem, #ccc 1.05rem, #ccc 1.1rem); }
    .board { display: flex; flex-wrap: wrap; gap: 0.5rem; }
    figure { margin: 0; width: 30%; break-inside: avoid; }
    figure img { width: 100%; border: 1px solid #777; }
    figcaption { font-size: 9pt; }
    .empty { font-style: italic; color: #444; }
    footer { margin-top: 0.6rem; font-size: 8.5pt; color: #444; }
  `;

  @property({ attribute: false }) lessons!: LessonController;
  @property({ attribute: false }) revision = '';

  protected override render() {
    const lesson = this.lessons?.lesson;
    if (!lesson) return html`<p class="empty">${msg('Choose a lesson (Lessons) to print its worksheet.')}</p>`;
    const number = this.lessons.lessons.indexOf(lesson) + 1;
    const board = this.lessons.board;
    return html`<article data-worksheet=${lesson.id}>
      <header><h1>${msg(str`Lesson ${number}: ${lesson.title()}`)}</h1><span>WhyCam</span></header>
      <div class="fields"><span>${msg('Name')}:</span><span>${msg('Date')}:</span></div>
      <p>${lesson.summary()}</p>
      ${lesson.steps.map((step, i) => {
        const t = step.text();
        return html`<section data-worksheet-step=${i}>
          <h2>${i + 1}. ${t.title}</h2>
          <p><b>${msg('Do')}:</b> ${t.task}</p>
          <p><b>${msg('Look for')}:</b> ${t.look}</p>
          <p class="ask">${t.ask}</p>
          <div class="answer" aria-label=${msg('Your answer')}></div>
        </section>`;
      })}
      <section>
        <h2>${msg('Our pictures')}</h2>
        ${
          board.length === 0
            ? html`<p class="empty">${msg('No pictures were kept during this lesson ("Keep on the board" keeps the view with its map).')}</p>`
            : html`<div class="board" data-worksheet="board">${board.map(
                (b) =>
                  html`<figure><img src=${b.image} alt=""><figcaption>${b.label} ${Math.round(b.score * 100)}% — ${b.method}</figcaption></figure>`,
              )}</div>`
        }
      </section>
      <footer>${msg('Made with WhyCam: the pictures never left the device.')}</footer>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-worksheet': Worksheet;
  }
}
