import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type Action, actionFor } from '../shortcuts.js';

interface PageInputEvents {
  action(action: Action): void;
  /** A picture pasted or dropped anywhere on the page. */
  picture(file: File): void;
  /** Model files dropped on the page (a Teachable Machine export, a taught model, an own Keras or ONNX model). */
  modelFiles(files: File[]): void;
  /** Whether a file is being dragged over the page (the view shows a drop target). */
  dragging(on: boolean): void;
  /** The page was hidden or shown (the worker pauses while hidden). */
  visibility(hidden: boolean): void;
}

/** The page-wide input: keyboard shortcuts, paste, drag and drop, visibility; added on connect, removed on disconnect. */
export class PageInputController implements ReactiveController {
  constructor(
    host: ReactiveControllerHost,
    private readonly events: PageInputEvents,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    for (const [target, type, listener] of this.listeners()) target.addEventListener(type, listener);
  }

  hostDisconnected(): void {
    for (const [target, type, listener] of this.listeners()) target.removeEventListener(type, listener);
  }

  private listeners(): [EventTarget, string, EventListener][] {
    return [
      [window, 'keydown', this.onKey as EventListener],
      [window, 'paste', this.onPaste as EventListener],
      [window, 'dragover', this.onDragOver as EventListener],
      [window, 'dragleave', this.onDragLeave],
      [window, 'drop', this.onDrop as EventListener],
      [document, 'visibilitychange', this.onVisibility],
    ];
  }

  private onKey = (e: KeyboardEvent): void => {
    const action = actionFor(e);
    if (!action) return;
    e.preventDefault();
    this.events.action(action);
  };

  private onPaste = (e: ClipboardEvent): void => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    e.preventDefault();
    this.events.picture(file);
  };

  private onDragOver = (e: DragEvent): void => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    this.events.dragging(true);
  };

  private onDragLeave = (): void => {
    this.events.dragging(false);
  };

  private onDrop = (e: DragEvent): void => {
    this.events.dragging(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    const file = files[0];
    if (!file) return;
    e.preventDefault();
    if (files.some((f) => /\.(json|bin|zip|onnx)$/i.test(f.name))) return this.events.modelFiles(files);
    this.events.picture(file);
  };

  private onVisibility = (): void => {
    this.events.visibility(document.hidden);
  };
}
