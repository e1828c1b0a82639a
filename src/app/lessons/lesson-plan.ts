import { msg } from '@lit/localize';
import type { Method } from '../../explain/methods/names.js';
import type { AppSettings } from '../settings.js';

/**
 * The four lessons, as data: each step says how it sets the app up (the settings it applies and
 * what else it needs: teach mode, a frozen frame, occlusion, the board) and what the class reads:
 * what to do, what to look for, and a question. Texts are functions so that they follow the
 * page's language.
 */

export type LessonId = 'look' | 'shortcut' | 'fool' | 'real';
export const LESSON_IDS: readonly LessonId[] = ['look', 'shortcut', 'fool', 'real'];

/** What a step can set up from: the model's default view and layers, and the latest predictions. */
export interface LessonContext {
  defaultView: { method: Method; layer: string };
  camLayer: string | null;
  scrambleBlocks: readonly string[];
  /** The classes of the latest result, best first (for "another class", "the runner-up"). */
  predictions: readonly number[];
}

/** The settings every step starts from, so that a step never inherits another's pin, contrast or scramble. */
const PLAIN = { classIndex: null, contrastClass: null, compare: null, scramble: 0 } as const;

export interface StepSetup {
  /** The settings the step applies, worked out for the model in use. */
  settings(c: LessonContext): Partial<AppSettings>;
  /** Teach mode open (true) or closed (false); unset: left as it is. */
  teach?: boolean;
  /** The view frozen (true) or live (false); unset: left as it is. */
  frozen?: boolean;
  /** The step runs occlusion on the still picture (the live frame is frozen first). */
  occlusion?: boolean;
  /** The step keeps attempts on the board (a button to keep the view). */
  board?: boolean;
  /** The step shows teach mode's confusion matrix (it needs a model taught in this lesson). */
  confusion?: boolean;
  /** What it needs of the model: CAM (a pooled linear head), or a network to scramble. */
  needs?: 'cam' | 'scramble';
}

export interface StepText {
  title: string;
  /** What to do. */
  task: string;
  /** What to look for. */
  look: string;
  /** A question to ask the class. */
  ask: string;
}

export interface LessonStep extends StepSetup {
  text(): StepText;
}

export interface Lesson {
  id: LessonId;
  title(): string;
  /** One line for the menu: what the class finds out. */
  summary(): string;
  steps: readonly LessonStep[];
}

const defaultView = (c: LessonContext): Partial<AppSettings> => ({ ...PLAIN, ...c.defaultView });
const runnerUp = (c: LessonContext): number | null => c.predictions[1] ?? null;

export const LESSONS: readonly Lesson[] = [
  {
    id: 'look',
    title: () => msg('What does the network look at?'),
    summary: () => msg('Point the camera at objects and see which part of the picture decides.'),
    steps: [
      {
        settings: defaultView,
        teach: false,
        frozen: false,
        text: () => ({
          title: msg('Point at an object'),
          task: msg('Hold a mug, a banana or a pair of glasses in front of the camera, one after another.'),
          look: msg(
            'Red shows what made the network decide, blue what did not matter. The label above says what it sees.',
          ),
          ask: msg('Does the network look at the whole object, or at one part of it? Which part?'),
        }),
      },
      {
        settings: (c) => ({ ...defaultView(c), compare: { method: 'cam' } }),
        frozen: false,
        text: () => ({
          title: msg('Two ways to explain: CAM and the default view'),
          task: msg(
            'Keep the object in view. On the left the default view, on the right CAM: the oldest method, on the coarse 7×7 grid.',
          ),
          look: msg('Where do the two maps agree? Where does the finer map show more detail?'),
          ask: msg('If two methods disagree, which one would you believe, and why?'),
        }),
      },
      {
        settings: (c) => ({ ...defaultView(c), classIndex: runnerUp(c) }),
        frozen: false,
        text: () => ({
          title: msg('Pin another class'),
          task: msg(
            'The map now explains the second guess in the list, not the first. Tap any other class in the list to explain that one.',
          ),
          look: msg('Which part of the picture speaks for the other class?'),
          ask: msg('What would you change in the picture so that the network picks the other class?'),
        }),
      },
      {
        settings: (c) => ({ ...PLAIN, method: 'gradcam', layer: 'auto', contrastClass: runnerUp(c) }),
        frozen: false,
        text: () => ({
          title: msg('Why A and not B'),
          task: msg(
            'The map explains the difference between the first and the second guess: what makes it A rather than B.',
          ),
          look: msg('Red now marks only what speaks for A against B; the parts both classes share go dark.'),
          ask: msg('What is the one detail that tells the two classes apart?'),
        }),
      },
    ],
  },
  {
    id: 'shortcut',
    title: () => msg('The shortcut'),
    summary: () =>
      msg('Teach two classes that differ in something besides the object, and watch the model take the shortcut.'),
    steps: [
      {
        settings: defaultView,
        teach: true,
        frozen: false,
        text: () => ({
          title: msg('Teach two classes with a hidden difference'),
          task: msg(
            'In Teach, make two classes, say "mug" and "bottle". Record every mug on a red sheet (or with a coloured sticker, or held in the left hand) and every bottle on a blue one. Ten or more examples each.',
          ),
          look: msg('Only the object is supposed to matter. But what else is different between the two classes?'),
          ask: msg('What do you think the model will learn?'),
        }),
      },
      {
        settings: (c) => ({ ...PLAIN, method: 'cam', layer: c.camLayer ?? 'auto' }),
        teach: true,
        needs: 'cam',
        text: () => ({
          title: msg('Train: the model scores well'),
          task: msg('Press Train. The model is tested on examples it was not trained on.'),
          look: msg('The share of held-back examples recognised: usually close to 100%.'),
          ask: msg('Does a high score mean that the model learned mugs and bottles?'),
        }),
      },
      {
        settings: (c) => ({ ...PLAIN, method: 'cam', layer: c.camLayer ?? 'auto' }),
        teach: true,
        confusion: true,
        needs: 'cam',
        text: () => ({
          title: msg('Look at its mistakes and its maps'),
          task: msg(
            'Under the score, the table counts the held-back examples: rows are what they are, columns what the model said. Tap a number to see those examples with the map of each class.',
          ),
          look: msg('Is the map on the object, or on the background, the sticker or the hand?'),
          ask: msg('What did the model really use to tell the classes apart?'),
        }),
      },
      {
        settings: (c) => ({ ...PLAIN, method: 'cam', layer: c.camLayer ?? 'auto' }),
        teach: true,
        frozen: false,
        needs: 'cam',
        text: () => ({
          title: msg('Swap the backgrounds'),
          task: msg(
            'Put the mug on the blue sheet and the bottle on the red one (or move the sticker, or swap hands).',
          ),
          look: msg('The label follows the sheet, not the object. Where is the map now: on the object or around it?'),
          ask: msg(
            'This is how a famous network "recognised" huskies by the snow behind them. How would you collect examples so that this cannot happen?',
          ),
        }),
      },
    ],
  },
  {
    id: 'fool',
    title: () => msg('Fool the network'),
    summary: () => msg('Cover parts of an object until the class flips, and check what mattered with occlusion.'),
    steps: [
      {
        settings: defaultView,
        teach: false,
        frozen: false,
        text: () => ({
          title: msg('Find the part that matters'),
          task: msg('Hold an object the network recognises. Note where the map is red.'),
          look: msg('The hottest part of the map: the network should need that part most.'),
          ask: msg('Which part would you cover to make the network change its mind?'),
        }),
      },
      {
        settings: defaultView,
        frozen: false,
        board: true,
        text: () => ({
          title: msg('Cover it'),
          task: msg(
            'Cover that part with a hand or a sheet of paper until the label changes. When it flips, press "Keep on the board".',
          ),
          look: msg('How little do you need to cover? Does covering a blue part change anything?'),
          ask: msg('Did the map predict the part that mattered?'),
        }),
      },
      {
        settings: defaultView,
        frozen: true,
        occlusion: true,
        board: true,
        text: () => ({
          title: msg('Check with occlusion'),
          task: msg(
            'The frame is frozen and occlusion runs: a grey square is slid over the picture, and the map shows where covering lowers the score most.',
          ),
          look: msg('Compare occlusion with the map of the earlier step: are the hot parts the same?'),
          ask: msg('Occlusion needs 50 passes of the network, the map one. When is the quick map good enough?'),
        }),
      },
      {
        settings: defaultView,
        frozen: false,
        board: true,
        text: () => ({
          title: msg('The board of best attempts'),
          task: msg('Keep trying: every kept attempt is on the board below and on the worksheet.'),
          look: msg('Which attempt flipped the class with the smallest cover?'),
          ask: msg('If a sticker can fool a network, where could that be dangerous?'),
        }),
      },
    ],
  },
  {
    id: 'real',
    title: () => msg('Is the explanation real?'),
    summary: () =>
      msg('The sanity check, live: replace the network with random weights and see which maps still look the same.'),
    steps: [
      {
        settings: () => ({ ...PLAIN, method: 'gradcam', layer: 'auto' }),
        teach: false,
        frozen: false,
        text: () => ({
          title: msg('The real network'),
          task: msg('Point the camera at an object the network recognises. This is Grad-CAM of the real network.'),
          look: msg('Remember where the map is red.'),
          ask: msg('If the network were broken, what should its explanation look like?'),
        }),
      },
      {
        settings: (c) => ({ ...PLAIN, method: 'gradcam', layer: 'auto', scramble: c.scrambleBlocks.length }),
        needs: 'scramble',
        frozen: false,
        text: () => ({
          title: msg('Scramble the network'),
          task: msg('Every block of the network now has random weights: it has forgotten everything it learned.'),
          look: msg("The prediction is nonsense, and Grad-CAM's map falls apart: it passes the check."),
          ask: msg('Why is a map that changes here a good sign?'),
        }),
      },
      {
        settings: (c) => ({
          ...PLAIN,
          method: 'layercam',
          layer: c.defaultView.layer,
          scramble: c.scrambleBlocks.length,
        }),
        needs: 'scramble',
        frozen: false,
        text: () => ({
          title: msg('A map that survives'),
          task: msg('Same random network, now LayerCAM.'),
          look: msg(
            'The map still looks like the object, though the network knows nothing: it shows where the layer responds, not what decided.',
          ),
          ask: msg('Can a map that looks right still be wrong?'),
        }),
      },
      {
        settings: (c) => ({ ...defaultView(c), compare: { method: 'cam' } }),
        frozen: false,
        text: () => ({
          title: msg('The real network again'),
          task: msg('The real weights are back. The default view was chosen because it passes this check.'),
          look: msg('Both maps are back on the object.'),
          ask: msg('Which methods would you trust to show what the network used?'),
        }),
      },
    ],
  },
];

export function findLesson(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}
