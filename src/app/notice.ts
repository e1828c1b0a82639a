import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export interface NoticeAction {
  label: string;
  action: string;
}

/** A message for the user with what to do next: errors, offline, updates. Never a blank screen. */
@customElement('whycam-notice')
export class Notice extends LitElement {
  static override styles = css`
    :host { display: block; }
    div { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.6rem 0.9rem; border-radius: 0.4rem;
      background: var(--notice-bg, #3a2a00); color: var(--notice-text, #ffe9a8); border: 1px solid var(--accent, #ffcc00); }
    :host([kind='info']) div { background: #10263a; color: #cfe8ff; border-color: #4aa3ff; }
    p { margin: 0; flex: 1 1 16rem; }
    .hint { display: block; opacity: 0.85; font-size: 0.92em; margin-top: 0.15rem; white-space: pre-line; }
    button { font: inherit; min-height: 2.2rem; padding: 0.2rem 0.8rem; cursor: pointer; }
  `;

  @property() message = '';
  @property() hint = '';
  @property({ reflect: true }) kind: 'error' | 'info' = 'error';
  @property({ attribute: false }) actions: readonly NoticeAction[] = [];

  protected override render() {
    return html`
      <div role=${this.kind === 'error' ? 'alert' : 'status'}>
        <p><strong>${this.message}</strong>${this.hint ? html`<span class="hint">${this.hint}</span>` : null}</p>
        ${this.actions.map((a) => html`<button type="button" @click=${() => this.dispatchEvent(new CustomEvent('notice-action', { detail: { action: a.action }, bubbles: true, composed: true }))}>${a.label}</button>`)}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'whycam-notice': Notice;
  }
}

/** The notices shown, one element each; `onAction` gets the action of a button pressed in one. */
export function noticeList(
  notices: readonly {
    topic: string;
    kind: 'error' | 'info';
    message: string;
    hint: string;
    actions: readonly NoticeAction[];
  }[],
  onAction: (action: string) => void,
) {
  return notices.map(
    (n) =>
      html`<whycam-notice data-topic=${n.topic} kind=${n.kind} .message=${n.message} .hint=${n.hint} .actions=${n.actions}
        @notice-action=${(e: CustomEvent<{ action: string }>) => onAction(e.detail.action)}></whycam-notice>`,
  );
}
