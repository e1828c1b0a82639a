import { msg, str } from '@lit/localize';
import { methodWarning } from '../../explain/methods/warnings.js';
import type { ReadyMessage, ResultMessage } from '../../protocol.js';
import { NOTICES } from '../notice-texts.js';
import type { AppSettings } from '../settings.js';
import type { NoticesController } from './notices.js';

/**
 * "Can the map be trusted?" on the page: while the network is scrambled (the live sanity check) a
 * notice and a badge over the picture say so, and a method at a layer where it is known to mislead
 * (Grad-CAM++ inside the network) gets the engine's warning as a notice.
 */
export class TrustController {
  /** What is on screen now, so that an unchanged notice is not shown again (which would reorder the notices). */
  private shown = { scramble: '', warning: '' };

  constructor(private readonly notices: NoticesController) {}

  /** Throws for a `scramble` value the automation API must refuse (not a whole number of blocks ≥ 0). */
  static check(scramble: number | undefined, ready: ReadyMessage | null): void {
    if (scramble === undefined || (Number.isInteger(scramble) && scramble >= 0)) return;
    throw new Error(`scramble must be a whole number of blocks from 0 to ${ready?.scrambleBlocks.length ?? 15}`);
  }

  /** Shows or drops the notices for these settings and this model. */
  sync(s: AppSettings, ready: ReadyMessage | null): void {
    const blocks = ready?.scrambleBlocks ?? [];
    const count = Math.min(s.scramble, blocks.length);
    const scramble = count > 0 ? `${count}` : '';
    if (scramble !== this.shown.scramble) {
      if (count > 0) this.notices.show(NOTICES.scrambled(count, blocks[count - 1]!));
      else this.notices.drop('scramble');
    }
    const warning = this.warning(s, ready) ?? '';
    if (warning !== this.shown.warning) {
      if (warning) this.notices.show(NOTICES.methodWarning(warning));
      else this.notices.drop('method-warning');
    }
    this.shown = { scramble, warning };
  }

  /** The engine's caution for the method at the layer it resolves to, or null. */
  warning(s: AppSettings, ready: ReadyMessage | null): string | null {
    if (!ready) return null;
    const layer = s.layer === 'auto' ? ready.lastConvLayer : s.layer;
    return methodWarning(s.method, layer, { camLayer: ready.camLayer, lastConvLayer: { name: ready.lastConvLayer } });
  }

  /** The label over the picture, marked while the map comes from a scrambled network. */
  label(text: string, r: ResultMessage | null): string {
    const n = r?.scrambled ?? 0;
    if (n === 0) return text;
    return text ? msg(str`SCRAMBLED NETWORK (${n} blocks) · ${text}`) : msg(str`SCRAMBLED NETWORK (${n} blocks)`);
  }
}
