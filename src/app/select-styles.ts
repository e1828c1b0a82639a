import { css } from 'lit';

/**
 * The app's `<select>`s drawn by the page, not the platform: WebKit draws a native menu button
 * (white, whatever the page's background) with the page's light text on it, unreadable; with
 * `appearance: none` every engine takes the colours here, and the arrow is two gradients (no
 * image, so nothing for the content security policy to allow). The open list stays native.
 */
export const selectStyles = css`
  select {
    -webkit-appearance: none;
    appearance: none;
    background-color: var(--panel-2, #1d2330);
    color: inherit;
    background-image:
      linear-gradient(45deg, transparent 50%, currentColor 50%),
      linear-gradient(135deg, currentColor 50%, transparent 50%);
    background-position:
      calc(100% - 0.95rem) 50%,
      calc(100% - 0.6rem) 50%;
    background-size: 0.36rem 0.36rem;
    background-repeat: no-repeat;
    padding-right: 1.6rem;
  }
  select:disabled {
    opacity: 0.55;
  }
  option {
    color: #111;
    background: #fff;
  }
`;
